#!/usr/bin/env python3
"""Wire-mode bridges side by side, in one run, in a throwaway lab.

h and n talk through m, which holds up0 (facing h) and lo0 (facing n).
Joined by, in turn:

  kernel     a Linux bridge br0 in m (the baseline)
  sluice     `sluice bridge --upper up0 --lower lo0`
  tcpbridge  `tcpbridge -i up0 -I lo0` (tcpreplay's user-space bridge)

For each, with offloads off and on: iperf3 TCP throughput h→n (1 and 4
streams), ping RTT h→n (p50/p99 of per-packet times), 64-byte frames per
second forwarded (sent from h with `sluice gen`, counted at n's eth0), and
CPU (the bridge process's own, and the whole machine's busy share during
the single-stream transfer). Prints a markdown table with ratios and the
load average at the start and the end (the machine is shared: numbers
move with it).

    sudo python3 bench/bridge.py                        # everything
    sudo python3 bench/bridge.py --seconds 5 --offloads off --bridges kernel,sluice
    sudo python3 bench/bridge.py --sluice-args "--ring v3 --block-timeout 1ms"

Needs root, iproute2, ethtool, iperf3, ping, tcpbridge. Nothing here
asserts a number: the table is for people to read.
"""

import argparse
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time

from common import Lab, build, cpu_times, iperf, loadavg, proc_cpu, sh


class Kernel:
    name = "kernel"

    def start(self, lab, sluice_args):
        m = lab.m
        sh(["ip", "-n", m, "link", "add", "br0", "type", "bridge", "stp_state", "0", "forward_delay", "0"])
        for dev in ("up0", "lo0"):
            sh(["ip", "-n", m, "link", "set", "dev", dev, "master", "br0"])
        sh(["ip", "-n", m, "link", "set", "dev", "br0", "up"])
        self.pid = None

    def stop(self, lab):
        sh(["ip", "-n", lab.m, "link", "del", "br0"], check=False)


class Proc:
    def stop(self, lab):
        if self.p.poll() is None:
            self.p.send_signal(signal.SIGINT)
            try:
                self.p.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.p.kill()
                self.p.wait()
        self.err = self.p.stderr.read() if self.p.stderr else ""


class Sluice(Proc):
    name = "sluice"

    def start(self, lab, sluice_args):
        cmd = lab.ns(lab.m, [lab.sluice, "bridge", "--upper", "up0", "--lower", "lo0", "-q"] + sluice_args)
        self.p = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        self.pid = self.p.pid


class TcpBridge(Proc):
    name = "tcpbridge"

    def start(self, lab, sluice_args):
        cmd = lab.ns(lab.m, ["tcpbridge", "-i", "up0", "-I", "lo0"])
        self.p = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        self.pid = self.p.pid


def wait_path(lab, timeout=10):
    end = time.time() + timeout
    while time.time() < end:
        r = sh(lab.ns(lab.h, ["ping", "-c", "1", "-W", "1", lab.n_ip]), check=False)
        if r.returncode == 0:
            return True
    return False


def ping(lab, count):
    out = sh(lab.ns(lab.h, ["ping", "-i", "0.01", "-c", str(count), lab.n_ip]), check=False).stdout
    times = [float(t) * 1000 for t in re.findall(r"time=([\d.]+) ms", out)]
    if len(times) < count * 0.9:
        return None, None, len(times)
    times.sort()
    p = lambda q: times[min(len(times) - 1, int(q * len(times)))]
    return p(0.5), p(0.99), len(times)


def fps64(lab, seconds):
    before = lab.rx_packets(lab.n, "eth0")
    sh(
        lab.ns(
            lab.h,
            [
                lab.sluice, "gen", "-i", "eth0", "--size", "60", "--seconds", str(seconds),
                "--count", "1000000000", "--dst-mac", lab.n_mac,
                "--udp", f"10.77.{lab.x}.1:4000,{lab.n_ip}:9",
            ],
        ),
        check=False,
        timeout=seconds + 30,
    )
    time.sleep(0.5)
    return (lab.rx_packets(lab.n, "eth0") - before) / seconds


def measure(lab, bridge, args, port):
    row = {"bridge": bridge.name}
    bridge.start(lab, args.sluice_args.split() if args.sluice_args else [])
    try:
        if not wait_path(lab):
            row["error"] = "no path from h to n"
            return row
        row["p50"], row["p99"], row["pings"] = ping(lab, args.pings)
        cpu0, b0, t0 = proc_cpu(bridge.pid) if bridge.pid else None, *cpu_times()
        w0 = time.time()
        row["tcp1"], row["retr1"], _ = iperf(lab, args.seconds, 1, port)
        wall = time.time() - w0
        cpu1, b1, t1 = proc_cpu(bridge.pid) if bridge.pid else None, *cpu_times()
        row["cpu_proc"] = (cpu1 - cpu0) / wall * 100 if cpu0 is not None and cpu1 is not None else None
        row["cpu_sys"] = (b1 - b0) / max(1, t1 - t0) * 100
        row["tcp4"], row["retr4"], _ = iperf(lab, args.seconds, 4, port + 1)
        row["fps"] = fps64(lab, max(2, args.seconds // 2))
    finally:
        bridge.stop(lab)
    if bridge.name == "sluice":
        # The bridge's own account of what it lost, for the record.
        lost = [l for l in getattr(bridge, "err", "").splitlines() if l.startswith("dropped:")]
        row["sluice_drops"] = lost[0] if lost else None
    return row


def fmt(v, spec):
    return "–" if v is None else format(v, spec)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seconds", type=int, default=8)
    ap.add_argument("--pings", type=int, default=300)
    ap.add_argument("--offloads", default="off,on")
    ap.add_argument("--bridges", default="kernel,sluice,tcpbridge")
    ap.add_argument("--sluice-args", default="")
    ap.add_argument("--sluice", help="a sluice binary (default: build one)")
    args = ap.parse_args()
    if os.geteuid() != 0:
        sys.exit("bench/bridge.py needs root (namespaces, AF_PACKET)")
    for tool in ("ip", "ethtool", "iperf3", "ping"):
        if not shutil.which(tool):
            sys.exit(f"missing tool: {tool}")
    sluice = args.sluice or build()
    kinds = {"kernel": Kernel, "sluice": Sluice, "tcpbridge": TcpBridge}
    wanted = [b for b in args.bridges.split(",") if b]
    if "tcpbridge" in wanted and not shutil.which("tcpbridge"):
        sys.exit("missing tool: tcpbridge (tcpreplay package)")
    la0 = loadavg()
    print(f"load average at start: {la0}", file=sys.stderr)
    rows = []
    for off in args.offloads.split(","):
        lab = Lab(sluice, f"bb{os.getpid() % 100000}", off)
        try:
            for i, b in enumerate(wanted):
                r = measure(lab, kinds[b](), args, 5300 + 10 * i)
                r["offloads"] = off
                rows.append(r)
                print(json.dumps(r), file=sys.stderr)
        finally:
            lab.down()
    la1 = loadavg()
    print(f"\nsluice bridge args: {args.sluice_args or '(defaults)'}; {args.seconds} s per transfer; load average {la0} at start, {la1} at the end\n")
    print("| offloads | bridge | TCP 1 stream Gbit/s | TCP 4 streams Gbit/s | vs kernel (1/4) | vs tcpbridge (1/4) | ping p50 µs | ping p99 µs | added p50 µs | 64 B frames/s | bridge CPU % | machine busy % |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        same = {x["bridge"]: x for x in rows if x["offloads"] == r["offloads"]}
        k, t = same.get("kernel"), same.get("tcpbridge")

        def ratio(a, base, key):
            if not base or a.get(key) is None or not base.get(key):
                return "–"
            return f"{a[key] / base[key]:.2f}"

        added = None
        if k and r.get("p50") is not None and k.get("p50") is not None:
            added = r["p50"] - k["p50"]
        if "error" in r:
            print(f"| {r['offloads']} | {r['bridge']} | {r['error']} |||||||||")
            continue
        print(
            f"| {r['offloads']} | {r['bridge']} | {fmt(r.get('tcp1'), '.2f')} | {fmt(r.get('tcp4'), '.2f')} | "
            f"{ratio(r, k, 'tcp1')} / {ratio(r, k, 'tcp4')} | {ratio(r, t, 'tcp1')} / {ratio(r, t, 'tcp4')} | "
            f"{fmt(r.get('p50'), '.0f')} | {fmt(r.get('p99'), '.0f')} | {fmt(added, '+.0f')} | "
            f"{fmt(r.get('fps'), ',.0f')} | {fmt(r.get('cpu_proc'), '.0f')} | {fmt(r.get('cpu_sys'), '.0f')} |"
        )


if __name__ == "__main__":
    main()
