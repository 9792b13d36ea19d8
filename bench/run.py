#!/usr/bin/env python3
"""Side-by-side benchmarks of sluice against the anchor tools.

Builds sluice in release mode, generates deterministic captures under a
temporary directory, then runs each task with sluice and with its anchor
(capinfos, editcap, tcpdump, cat, ...) alternating, several times each, with
the page cache warm. Prints a markdown table of medians and the ratio
ours / theirs (below 1 means sluice is faster), the CPU time of each, and
sluice's peak memory. Rows that write a file write it beside the
captures, as users do; `--out-tmpfs` writes to a tmpfs instead, which
takes the disk's writeback (shared with whatever else the machine does)
out of the row and leaves the kernel's copy into memory, a floor both
sides pay.

    python3 bench/run.py                  # every offline row, 1 GiB capture
    python3 bench/run.py --size-mb 600 --runs 7 --only info,print
    python3 bench/run.py --list

Nothing here asserts a time: the numbers are for people to read.
"""

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def sh(cmd, **kw):
    return subprocess.run(cmd, check=True, **kw)


def build():
    sh(["cargo", "build", "--release", "--quiet", "-p", "sluice", "--bins", "--examples"], cwd=ROOT)
    target = os.environ.get("CARGO_TARGET_DIR", os.path.join(ROOT, "target"))
    return os.path.join(target, "release")


def run_once(cmd, outputs=(), stdout_path=os.devnull):
    """Runs one command; returns (wall seconds, cpu seconds, peak RSS in KiB).

    `outputs` are removed first, so that no run pays for truncating the
    previous run's dirty pages."""
    for path in outputs:
        if os.path.exists(path):
            os.remove(path)
    with open(stdout_path, "wb") as out:
        start = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.DEVNULL, shell=isinstance(cmd, str))
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - start
    code = os.waitstatus_to_exitcode(status)
    if code != 0:
        raise RuntimeError(f"{cmd!r} exited with {code}")
    return wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss


def output_dir(work, size_mb, tmpfs):
    """Where commands write their outputs: beside the captures, or with
    `tmpfs` a tmpfs (/dev/shm) when it has room for three outputs."""
    shm = "/dev/shm"
    if tmpfs and os.path.isdir(shm):
        st = os.statvfs(shm)
        if st.f_bavail * st.f_frsize > 3 * size_mb * 1024 * 1024:
            return tempfile.mkdtemp(prefix="sluice-bench-out-", dir=shm)
    return work


def load():
    try:
        with open("/proc/loadavg") as f:
            return " ".join(f.read().split()[:3])
    except OSError:
        return "unknown"


def have(tool):
    return shutil.which(tool) is not None


def rows(bin_dir, out_dir, files):
    """(key, title, our command, anchor name, anchor command) per task."""
    sluice = os.path.join(bin_dir, "sluice")
    pcap, pcapng = files["pcap"], files["pcapng"]
    out_ng = os.path.join(out_dir, "out.pcapng")
    out_pcap = os.path.join(out_dir, "out.pcap")
    r = [
        ("info", "info (with protocol mix) vs capinfos -tEcsdluaeoyizx",
         [sluice, "info", pcap], "capinfos", ["capinfos", "-tEcsdluaeoyizx", pcap]),
        ("info-ng", "info on pcapng vs capinfos -tEcsdluaeoyizx",
         [sluice, "info", pcapng], "capinfos", ["capinfos", "-tEcsdluaeoyizx", pcapng]),
        ("convert", "convert pcap -> pcapng vs editcap -F pcapng",
         [sluice, "convert", pcap, out_ng], "editcap", ["editcap", "-F", "pcapng", pcap, out_ng]),
        ("convert-back", "convert pcapng -> pcap vs editcap -F pcap",
         [sluice, "convert", pcapng, out_pcap], "editcap", ["editcap", "-F", "pcap", pcapng, out_pcap]),
        ("print", "print every frame > /dev/null vs tcpdump -n -r",
         [sluice, "print", "-r", pcap], "tcpdump", ["tcpdump", "-n", "-r", pcap]),
        ("info-quick", "info --quick (headers only) vs capinfos -tEcsdluaeoyizx",
         [sluice, "info", "--quick", pcap], "capinfos", ["capinfos", "-tEcsdluaeoyizx", pcap]),
        ("read", "plain read-through (info --quick) vs cat > /dev/null",
         [sluice, "info", "--quick", pcap], "cat", ["cat", pcap]),
    ]
    for i, expr in enumerate(FILTERS):
        r.append((f"filter{i + 1}", f"filter '{short(expr)}' -w vs tcpdump -r -w",
                  [sluice, "filter", "-r", pcap, "-w", out_pcap, "--", expr],
                  "tcpdump", ["tcpdump", "-r", pcap, "-w", out_pcap, expr]))
    return r


FILTERS = [
    "tcp port 80",
    "host 10.77.1.7",
    "tcp[tcpflags] & (tcp-syn|tcp-fin) != 0",
    "vlan 100",
    " or ".join(f"host 10.77.{i}.{i + 3}" for i in range(20)),
]


def short(expr):
    return expr if len(expr) < 40 else expr[:37] + "..."


def supported(bin_dir, sub):
    sluice = os.path.join(bin_dir, "sluice")
    res = subprocess.run([sluice, sub, "--help"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return res.returncode == 0


def fmt_size(kib):
    return f"{kib / 1024:.1f} MiB"


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--size-mb", type=int, default=1024, help="size of the generated capture")
    ap.add_argument("--runs", type=int, default=5, help="runs of each command (at least 5 for the table)")
    ap.add_argument("--only", default="", help="comma-separated row keys")
    ap.add_argument("--work", default="", help="work directory (default: a temporary one, removed after)")
    ap.add_argument("--list", action="store_true", help="list the rows and exit")
    ap.add_argument("--out-tmpfs", action="store_true",
                    help="write outputs to a tmpfs (/dev/shm) when it has room, not beside the captures")
    args = ap.parse_args()

    work = args.work or tempfile.mkdtemp(prefix="sluice-bench-")
    out_dir = output_dir(work, args.size_mb, args.out_tmpfs)
    try:
        bin_dir = build()
        files = {
            "pcap": os.path.join(work, "mix.pcap"),
            "pcapng": os.path.join(work, "mix.pcapng"),
        }
        all_rows = rows(bin_dir, out_dir, files)
        if args.list:
            for key, title, *_ in all_rows:
                print(f"{key:14} {title}")
            return
        wanted = set(filter(None, args.only.split(",")))
        todo = [r for r in all_rows if not wanted or r[0] in wanted]

        gencap = os.path.join(bin_dir, "examples", "gencap")
        for fmt, path in files.items():
            if not os.path.exists(path) or os.path.getsize(path) < args.size_mb * 1024 * 1024 * 0.9:
                print(f"generating {args.size_mb} MiB {fmt} capture ...", file=sys.stderr)
                sh([gencap, "--size-mb", str(args.size_mb), "--seed", "1", "-w", path])
            sh(["cat", path], stdout=subprocess.DEVNULL)  # warm the page cache

        size = os.path.getsize(files["pcap"])
        print(f"capture: {size / 1e6:.0f} MB pcap, {os.path.getsize(files['pcapng']) / 1e6:.0f} MB pcapng; "
              f"{args.runs} alternating runs each; medians; outputs to "
              f"{'memory (tmpfs)' if out_dir != work else 'disk'}; load average {load()}\n")
        print("| task | sluice | anchor | ratio ours/theirs | CPU ours / theirs | sluice peak RSS | sluice throughput |")
        print("|---|---:|---:|---:|---:|---:|---:|")
        for key, title, ours, anchor, theirs in todo:
            sub = ours[1]
            if not supported(bin_dir, sub):
                print(f"| {title} | (no `sluice {sub}` yet) | | | | |")
                continue
            if not have(anchor):
                print(f"| {title} | | ({anchor} not installed) | | | |")
                continue
            mine, other, rss, cpu_mine, cpu_other = [], [], [], [], []
            outs = [p for p in ours + theirs if isinstance(p, str) and os.path.basename(p).startswith("out.")]
            for _ in range(args.runs):
                w, c, m = run_once(ours, outs)
                mine.append(w)
                cpu_mine.append(c)
                rss.append(m)
                w, c, _ = run_once(theirs, outs)
                other.append(w)
                cpu_other.append(c)
            for path in outs:
                if os.path.exists(path):
                    os.remove(path)
            a, b = statistics.median(mine), statistics.median(other)
            ca, cb = statistics.median(cpu_mine), statistics.median(cpu_other)
            thr = size / a / 1e9 if key not in ("info-ng", "convert-back") else os.path.getsize(files["pcapng"]) / a / 1e9
            cell = title.replace("|", "\\|")
            print(f"| {cell} | {a:.3f} s | {b:.3f} s | {a / b:.2f} | {ca:.2f} / {cb:.2f} s "
                  f"| {fmt_size(max(rss))} | {thr:.2f} GB/s |", flush=True)
        print(f"\nload average after: {load()}")
    finally:
        if out_dir != work:
            shutil.rmtree(out_dir, ignore_errors=True)
        if not args.work:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
