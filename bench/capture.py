#!/usr/bin/env python3
"""Live capture and transmit benchmarks of sluice against tcpdump, netsniff-ng,
trafgen and tcpreplay, side by side on a lab veth. Needs root.

Capture: 60-byte UDP frames (64 on the wire with the FCS) go as fast as
they can from the lab's host side `h` (trafgen with one or two sender
processes, or `sluice gen`) to the middle's `up0`, where one capturer at a
time runs: `sluice capture -w`, `tcpdump -w`, `netsniff-ng --out`, each to
a file and to /dev/null, without a filter and with one that matches
nothing (`udp port 9`; the frames go to port 7777). Runs alternate between
the capturers. For each run:

- frames the interface received (`up0`'s own rx counter, read around the
  sender) against frames in the output (capinfos on files, the tool's own
  count for /dev/null): the loss;
- kernel drops, as the capturer reports them;
- CPU of the capturer while the traffic flows (on-CPU time of all its
  threads, /proc/PID/task/*/schedstat), per frame the interface received;
- the sender's rate (interface frames / sender time);
- for sluice's files, that every frame is byte for byte the frame sent.

Transmit: trafgen (1 process), `sluice gen`, `sluice inject --topspeed`
and `tcpreplay --topspeed -K` send 60-byte frames for the same time, no
capture running; frames per second at `up0`.

Prints markdown tables of medians with ratios ours / theirs, the load
average before and after (the machine may be shared), and what each run
measured (with --verbose).

    sudo python3 bench/capture.py                      # everything, 5 runs
    sudo python3 bench/capture.py --runs 3 --seconds 5 --only capture
    sudo python3 bench/capture.py --only tx

Nothing here asserts a number: the tables are for people to read.
"""

import argparse
import mmap
import os
import shutil
import signal
import statistics
import struct
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PREFIX = "benchcap"
SINK_PORT = 7777
FILTER_NOTHING = "udp port 9"


def sh(cmd, **kw):
    return subprocess.run(cmd, check=True, **kw)


def out(cmd):
    return subprocess.run(cmd, check=True, capture_output=True, text=True).stdout


def build():
    sh(["cargo", "build", "--release", "--quiet", "-p", "sluice", "--bins"], cwd=ROOT)
    target = os.environ.get("CARGO_TARGET_DIR", os.path.join(ROOT, "target"))
    return os.path.join(target, "release", "sluice")


def ns(which):
    return f"{PREFIX}{which}"


def in_ns(which, cmd):
    return ["ip", "netns", "exec", ns(which)] + cmd


def counter(which, dev, name):
    return int(out(in_ns(which, ["cat", f"/sys/class/net/{dev}/statistics/{name}"])))


def loadavg():
    return open("/proc/loadavg").read().split()[:3]


class Lab:
    """The sluice lab (h, n, m); frames from h's eth0 arrive at m's up0."""

    def __init__(self, sluice):
        self.sluice = sluice
        subprocess.run([sluice, "lab", "down", "--prefix", PREFIX], capture_output=True)
        sh([sluice, "lab", "up", "--prefix", PREFIX, "--offloads", "off"], stdout=subprocess.DEVNULL)
        self.h_ip = out(["ip", "-n", ns("h"), "-4", "-br", "addr", "show", "eth0"]).split()[2].split("/")[0]
        self.n_ip = out(["ip", "-n", ns("n"), "-4", "-br", "addr", "show", "eth0"]).split()[2].split("/")[0]
        self.h_mac = out(["ip", "-n", ns("h"), "-br", "link", "show", "eth0"]).split()[2]
        self.up0_mac = out(["ip", "-n", ns("m"), "-br", "link", "show", "up0"]).split()[2]

    def down(self):
        subprocess.run([self.sluice, "lab", "down", "--prefix", PREFIX], capture_output=True)

    def frame(self):
        """The 60-byte frame every sender sends (trafgen's has no counter)."""
        mac = lambda m: bytes(int(x, 16) for x in m.split(":"))
        ip4 = lambda a: bytes(int(x) for x in a.split("."))
        payload = b"\x41" * 18
        udp = struct.pack(">HHHH", 4000, SINK_PORT, 8 + len(payload), 0) + payload
        iph = bytearray(struct.pack(">BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), 0, 0, 64, 17, 0,
                                    ip4(self.h_ip), ip4(self.n_ip)))
        s = sum(struct.unpack(">10H", iph))
        while s >> 16:
            s = (s & 0xFFFF) + (s >> 16)
        iph[10:12] = struct.pack(">H", ~s & 0xFFFF)
        return mac(self.up0_mac) + mac(self.h_mac) + b"\x08\x00" + bytes(iph) + udp


def trafgen_config(lab, path):
    with open(path, "w") as f:
        f.write("{\n  eth(da=%s, sa=%s),\n  ipv4(saddr=%s, daddr=%s, id=0, ttl=64),\n"
                "  udp(sp=4000, dp=%d, csum=0),\n  fill(0x41, 18)\n}\n"
                % (lab.up0_mac, lab.h_mac, lab.h_ip, lab.n_ip, SINK_PORT))


def write_pcap(path, frame, count):
    with open(path, "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1))
        rec = struct.pack("<IIII", 1_700_000_000, 0, len(frame), len(frame)) + frame
        f.write(rec * count)


def cpu_ns(pid):
    """On-CPU nanoseconds of every thread of a process."""
    total = 0
    try:
        for t in os.listdir(f"/proc/{pid}/task"):
            try:
                total += int(open(f"/proc/{pid}/task/{t}/schedstat").read().split()[0])
            except (FileNotFoundError, ProcessLookupError, ValueError):
                pass
    except FileNotFoundError:
        pass
    return total


def capturer(tool, sluice, output, filt):
    f = [filt] if filt else []
    if tool == "sluice":
        return [sluice, "capture", "-q", "-i", "up0", "-w", output] + f
    if tool == "tcpdump":
        return ["tcpdump", "-i", "up0", "-w", output] + f
    cmd = ["netsniff-ng", "--in", "up0", "--out", output, "-s"]
    return cmd + (["-f", filt] if filt else [])


def ready_line(tool):
    return {"sluice": None, "tcpdump": "listening on", "netsniff-ng": "Running!"}[tool]


def parse_counts(tool, text):
    """(frames the tool says it wrote, kernel drops) from its stderr."""
    lines = text.splitlines()

    def num(suffix):
        for l in lines:
            if l.strip().endswith(suffix):
                return int(l.strip().split()[0])
        return None

    if tool == "sluice":
        cap = None
        for l in lines:
            if " frames captured" in l:
                cap = int(l.split()[0])
        return cap, num("frames dropped by the kernel")
    if tool == "tcpdump":
        return num("packets captured"), num("packets dropped by kernel")
    incoming = None
    for l in lines:
        if "packets incoming" in l:
            incoming = int(l.split()[0])
    return incoming, num("packets failed filter (out of space)")


def capinfos_count(path):
    res = subprocess.run(["capinfos", "-c", "-M", "-T", path], capture_output=True, text=True)
    if res.returncode != 0:
        return None
    return int(res.stdout.strip().splitlines()[-1].split("\t")[1])


def check_frames(path, frame):
    """(frames equal to `frame`, other frames) of a pcapng file, walking the
    blocks without a library."""
    same = other = 0
    with open(path, "rb") as f, mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) as m:
        at, end = 0, len(m)
        while at + 12 <= end:
            btype, blen = struct.unpack_from("<II", m, at)
            if blen < 12 or at + blen > end:
                raise RuntimeError(f"{path}: bad block at {at}")
            if btype == 6:
                caplen = struct.unpack_from("<I", m, at + 20)[0]
                if m[at + 28:at + 28 + caplen] == frame:
                    same += 1
                else:
                    other += 1
            at += blen
    return same, other


def run_sender(kind, sluice, lab, cfg, senders, seconds):
    """Starts the sender; returns the process."""
    if kind == "trafgen":
        cmd = ["trafgen", "-c", cfg, "-o", "eth0", "-P", str(senders), "-q"]
    else:
        cmd = [sluice, "gen", "-i", "eth0", "--seconds", f"{seconds}s", "--threads", str(senders),
               "--udp", f"{lab.h_ip}:4000,{lab.n_ip}:{SINK_PORT}", "--dst-mac", lab.up0_mac]
    return subprocess.Popen(in_ns("h", cmd), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)


def interrupt(proc):
    """SIGINT to the process and its children (trafgen forks one per CPU)."""
    try:
        os.killpg(proc.pid, signal.SIGINT)
    except ProcessLookupError:
        pass


def wait_ready(proc, errpath, tool, limit=60.0):
    want = ready_line(tool)
    end = time.time() + limit
    while time.time() < end:
        if proc.poll() is not None:
            raise RuntimeError(f"{tool} ended early: {open(errpath).read()}")
        text = open(errpath).read()
        if want is None or want in text:
            return
        time.sleep(0.05)
    raise RuntimeError(f"{tool} not ready after {limit} s: {open(errpath).read()}")


def capture_run(tool, sluice, lab, cfg, work, senders, sender_kind, to_file, filt, seconds, frame):
    output = os.path.join(work, f"cap-{tool}.pcapng" if tool == "sluice" else f"cap-{tool}.pcap") \
        if to_file else "/dev/null"
    errpath = os.path.join(work, f"{tool}.err")
    with open(errpath, "w") as err:
        # netsniff-ng says "Running!" and its counts on stdout.
        cap = subprocess.Popen(in_ns("m", capturer(tool, sluice, output, filt)),
                               stdout=err, stderr=err, start_new_session=True)
    try:
        wait_ready(cap, errpath, tool)
        time.sleep(0.5 if tool == "sluice" else 1.0)
        rx0 = counter("m", "up0", "rx_packets")
        cpu0 = cpu_ns(cap.pid)
        t0 = time.time()
        snd = run_sender(sender_kind, sluice, lab, cfg, senders, seconds)
        time.sleep(seconds)
        interrupt(snd)
        snd.wait(timeout=30)
        t1 = time.time()
        rx1 = counter("m", "up0", "rx_packets")
        # Let the capturer catch up before it is told to stop.
        time.sleep(2.0)
        cpu1 = cpu_ns(cap.pid)
        interrupt(cap)
        cap.wait(timeout=120)
    finally:
        if cap.poll() is None:
            cap.kill()
            cap.wait()
    rx = rx1 - rx0
    said, drops = parse_counts(tool, open(errpath).read())
    written = capinfos_count(output) if to_file else said
    r = {
        "rx": rx, "written": written, "said": said, "drops": drops,
        "cpu_ns": cpu1 - cpu0, "rate": rx / (t1 - t0), "same": None, "other": None,
    }
    if to_file and tool == "sluice" and not filt:
        r["same"], r["other"] = check_frames(output, frame)
    if to_file:
        os.unlink(output)
    return r


def tx_run(kind, sluice, lab, cfg, pcap, seconds):
    if kind == "trafgen":
        cmd = ["trafgen", "-c", cfg, "-o", "eth0", "-P", "1", "-q"]
    elif kind == "sluice gen":
        cmd = [sluice, "gen", "-i", "eth0", "--seconds", f"{seconds + 5}s",
               "--udp", f"{lab.h_ip}:4000,{lab.n_ip}:{SINK_PORT}", "--dst-mac", lab.up0_mac]
    elif kind == "sluice inject":
        cmd = [sluice, "inject", "-i", "eth0", "--topspeed", "--loop", "0", pcap]
    else:
        cmd = ["tcpreplay", "-i", "eth0", "--topspeed", "-K", "--loop", "100000", pcap]
    rx0 = counter("m", "up0", "rx_packets")
    t0 = time.time()
    p = subprocess.Popen(in_ns("h", cmd), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                         start_new_session=True)
    time.sleep(seconds)
    rx1 = counter("m", "up0", "rx_packets")
    t1 = time.time()
    interrupt(p)
    try:
        p.wait(timeout=30)
    except subprocess.TimeoutExpired:
        p.kill()
        p.wait()
    return (rx1 - rx0) / (t1 - t0)


def med(v):
    v = [x for x in v if x is not None]
    return statistics.median(v) if v else None


def fmt_k(v):
    return "–" if v is None else f"{v / 1000:.0f}k"


def fmt_int(v):
    return "–" if v is None else f"{v:.0f}"


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--runs", type=int, default=5, help="runs of each configuration (default 5)")
    ap.add_argument("--seconds", type=float, default=10.0, help="sender time per run (default 10)")
    ap.add_argument("--only", default="capture,tx", help="capture, tx or both")
    ap.add_argument("--senders", default="1,2", help="sender processes for the capture rows")
    ap.add_argument("--sender", default="trafgen", choices=["trafgen", "sluice"],
                    help="what sends during the capture rows")
    ap.add_argument("--tools", default="sluice,tcpdump,netsniff-ng")
    ap.add_argument("--outputs", default="file,null")
    ap.add_argument("--filters", default="none,nothing")
    ap.add_argument("--no-build", action="store_true", help="use the release binary as it is")
    ap.add_argument("--verbose", action="store_true", help="print every run")
    args = ap.parse_args()
    if os.geteuid() != 0:
        sys.exit("bench/capture.py needs root (namespaces, packet sockets)")
    for t in ["trafgen", "tcpdump", "netsniff-ng", "tcpreplay", "capinfos"]:
        if shutil.which(t) is None:
            sys.exit(f"{t} is not installed")
    only = set(args.only.split(","))
    if args.no_build:
        target = os.environ.get("CARGO_TARGET_DIR", os.path.join(ROOT, "target"))
        sluice = os.path.join(target, "release", "sluice")
    else:
        sluice = build()
    work = tempfile.mkdtemp(prefix="sluice-capbench-")
    load_before = loadavg()
    lab = Lab(sluice)
    try:
        cfg = os.path.join(work, "udp60.cfg")
        trafgen_config(lab, cfg)
        frame = lab.frame()
        assert len(frame) == 60
        pcap = os.path.join(work, "udp60.pcap")
        write_pcap(pcap, frame, 100_000)
        print(f"sluice {out([sluice, '--version']).strip()}, kernel {os.uname().release}, "
              f"{os.cpu_count()} CPUs; load average before: {' '.join(load_before)}")
        print(f"{args.runs} alternating runs of {args.seconds:g} s each; medians\n")

        if "capture" in only:
            tools = args.tools.split(",")
            rows = []
            for senders in [int(s) for s in args.senders.split(",")]:
                for output in args.outputs.split(","):
                    for filt in args.filters.split(","):
                        expr = FILTER_NOTHING if filt == "nothing" else None
                        results = {t: [] for t in tools}
                        for run in range(args.runs):
                            order = tools[run % len(tools):] + tools[:run % len(tools)]
                            for tool in order:
                                r = capture_run(tool, sluice, lab, cfg, work, senders, args.sender,
                                                output == "file", expr, args.seconds, frame)
                                results[tool].append(r)
                                if args.verbose:
                                    print(f"  senders={senders} {output} filter={filt} {tool}: {r}",
                                          file=sys.stderr)
                        rows.append((senders, output, filt, results))
            print_capture(rows, tools, args)

        if "tx" in only:
            kinds = ["trafgen", "sluice gen", "sluice inject", "tcpreplay"]
            res = {k: [] for k in kinds}
            for run in range(args.runs):
                order = kinds[run % len(kinds):] + kinds[:run % len(kinds)]
                for k in order:
                    res[k].append(tx_run(k, sluice, lab, cfg, pcap, args.seconds))
                    if args.verbose:
                        print(f"  tx {k}: {res[k][-1]:.0f} fps", file=sys.stderr)
            print("\n### Transmit: 60-byte frames, one sender core, no capture\n")
            print("| sender | frames/s (median) | min | max | ratio to trafgen |")
            print("|---|---:|---:|---:|---:|")
            base = med(res["trafgen"])
            for k in kinds:
                m = med(res[k])
                print(f"| {k} | {fmt_k(m)} | {fmt_k(min(res[k]))} | {fmt_k(max(res[k]))} | "
                      f"{m / base:.2f} |")
        print(f"\nload average after: {' '.join(loadavg())}")
    finally:
        lab.down()
        shutil.rmtree(work, ignore_errors=True)


def print_capture(rows, tools, args):
    print(f"### Capture: 60-byte UDP frames from {args.sender} at full speed for {args.seconds:g} s\n")
    print("loss = frames the interface received − frames in the output (the tool's own count for "
          "/dev/null; for sluice's files, the frames sent that are not byte for byte in the file), "
          "in the worst run; CPU per frame the interface received, while the traffic flows; "
          "other columns are medians\n")
    print("| senders | output | filter | capturer | sender frames/s | frames at up0 | worst loss (runs with loss) "
          "| kernel drops | CPU ns/frame | CPU ours/theirs | sender ours/theirs |")
    print("|---:|---|---|---|---:|---:|---:|---:|---:|---:|---:|")
    for senders, output, filt, results in rows:
        ours = results.get("sluice", [])
        our_cpu = med([r["cpu_ns"] / max(r["rx"], 1) for r in ours]) if ours else None
        our_rate = med([r["rate"] for r in ours]) if ours else None
        for tool in tools:
            rs = results[tool]
            rate = med([r["rate"] for r in rs])
            rx = med([r["rx"] for r in rs])
            if filt == "nothing":
                losses = [r["written"] for r in rs]  # anything written is wrong here
                known = [x for x in losses if x is not None]
                loss = max(known) if known else None
                lossy = sum(1 for x in losses if x)
            else:
                # Where the frames were checked one by one, the loss is the
                # frames sent that are not in the file; elsewhere the count
                # difference, where a frame of the stack's own (a router
                # solicitation, say) can hide a lost one.
                losses = [
                    None if r["written"] is None
                    else r["rx"] - r["same"] if r["same"] is not None
                    else max(0, r["rx"] - r["written"])
                    for r in rs
                ]
                known = [x for x in losses if x is not None]
                loss = max(known) if known else None
                lossy = sum(1 for x in losses if x)
            drops = med([r["drops"] for r in rs])
            cpu = med([r["cpu_ns"] / max(r["rx"], 1) for r in rs])
            cpu_ratio = "" if tool == "sluice" or not cpu or our_cpu is None else f"{our_cpu / cpu:.2f}"
            rate_ratio = "" if tool == "sluice" or not rate or our_rate is None else f"{our_rate / rate:.2f}"
            print(f"| {senders} | {output} | {filt} | {tool} | {fmt_k(rate)} | {fmt_int(rx)} | "
                  f"{fmt_int(loss)} ({lossy}/{len(rs)}) | {fmt_int(drops)} | {fmt_int(cpu)} | "
                  f"{cpu_ratio} | {rate_ratio} |")
        checked = [r for r in ours if r["same"] is not None]
        if checked:
            same = sum(r["same"] for r in checked)
            other = sum(r["other"] for r in checked)
            print(f"|  |  |  | sluice files: {same} frames byte-identical to the frame sent, "
                  f"{other} others (the stack's own) |  |  |  |  |  |  |  |")


if __name__ == "__main__":
    main()
