#!/usr/bin/env python3
"""Host mode against no host mode, in one run, in a throwaway lab.

h and n talk through a kernel bridge in m. In h, in turn:

  none     no rules, no queue (the baseline)
  divert   `sluice divert` pass-through: every TCP packet h sends and
           receives goes through user space (netfilter queue, whole
           packets copied, verdicts batched) and on unchanged
  monitor  `sluice divert --monitor`: copies through NFLOG, for contrast

For each, with offloads on and off: iperf3 TCP throughput h→n with 1 and
4 streams, and CPU (the divert process's own share of one core, and the
whole machine's busy share). The runs alternate (none, divert, monitor,
none, …) `--rounds` times and the table shows medians and the ratio to
`none` of the same round set, with the load average at the start and the
end (the machine is shared: numbers move with it).

    sudo python3 bench/divert.py
    sudo python3 bench/divert.py --seconds 5 --rounds 5 --offloads on
    sudo python3 bench/divert.py --divert-args "--buffer 128"

Needs root, iproute2, ethtool, iperf3, iptables. Nothing here asserts a
number: the table is for people to read.
"""

import argparse
import os
import statistics
import subprocess
import sys
import time

from common import Lab, build, iperf, loadavg, proc_cpu, sh


class Divert:
    def __init__(self, lab, sluice, extra):
        self.proc = subprocess.Popen(
            ["ip", "netns", "exec", lab.h, sluice, "divert", "-q", "--queue", "7701"]
            + extra
            + ["tcp"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        # Wait for the rules (10 s at most).
        end = time.time() + 10
        while time.time() < end:
            out = sh(["ip", "netns", "exec", lab.h, "iptables-save", "-t", "mangle"], check=False)
            if "SLUICE-" in out.stdout or "SLUICE-" in sh(
                ["ip", "netns", "exec", lab.h, "iptables-legacy-save", "-t", "mangle"],
                check=False,
            ).stdout:
                return
            if self.proc.poll() is not None:
                raise RuntimeError("sluice divert exited: " + self.proc.stderr.read())
            time.sleep(0.05)
        raise RuntimeError("the rules of sluice divert did not appear")

    def stop(self):
        self.proc.send_signal(2)
        try:
            _, err = self.proc.communicate(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            _, err = self.proc.communicate()
        return err


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seconds", type=int, default=5)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--offloads", default="on,off")
    ap.add_argument("--modes", default="none,divert,monitor")
    ap.add_argument("--divert-args", default="")
    ap.add_argument("--prefix", default="dvbench")
    args = ap.parse_args()
    if os.geteuid() != 0:
        sys.exit("bench/divert.py needs root (namespaces, netfilter queues)")
    sluice = build()
    modes = args.modes.split(",")
    extra = args.divert_args.split()
    load0 = loadavg()
    rows = []
    last = {}
    for off in args.offloads.split(","):
        lab = Lab(sluice, args.prefix, off, kbridge=True)
        try:
            res = {(m, s): [] for m in modes for s in (1, 4)}
            cpu = {(m, s): [] for m in modes for s in (1, 4)}
            busy = {(m, s): [] for m in modes for s in (1, 4)}
            for _ in range(args.rounds):
                for m in modes:
                    for streams in (1, 4):
                        d = None
                        if m == "divert":
                            d = Divert(lab, sluice, extra)
                        elif m == "monitor":
                            d = Divert(lab, sluice, ["--monitor"] + extra)
                        c0 = proc_cpu(d.proc.pid) if d else None
                        t0 = time.time()
                        try:
                            g, _, b = iperf(lab, args.seconds, streams)
                            if g is None:
                                raise RuntimeError(f"iperf3 gave no result ({m}, {streams} streams)")
                        finally:
                            c1 = proc_cpu(d.proc.pid) if d else None
                            wall = time.time() - t0
                            err = d.stop() if d else ""
                        res[(m, streams)].append(g)
                        busy[(m, streams)].append(b)
                        if c0 is not None and c1 is not None:
                            cpu[(m, streams)].append((c1 - c0) / wall)
                        if d:
                            last[(off, m)] = err.strip()
            for streams in (1, 4):
                base = statistics.median(res[("none", streams)]) if "none" in modes else None
                for m in modes:
                    g = statistics.median(res[(m, streams)])
                    c = cpu[(m, streams)]
                    rows.append((
                        off, streams, m, g,
                        (g / base) if base else None,
                        statistics.median(c) if c else None,
                        statistics.median(busy[(m, streams)]),
                        res[(m, streams)],
                    ))
        finally:
            lab.down()
    load1 = loadavg()
    print(f"load average at start {load0}, at end {load1}; {args.rounds} rounds of "
          f"{args.seconds} s, medians; {os.cpu_count()} CPUs\n")
    print("| offloads | streams | mode | Gbit/s | vs none | divert CPU (of one core) | machine busy | runs (Gbit/s) |")
    print("|---|---|---|---|---|---|---|---|")
    for off, streams, m, g, ratio, c, b, runs in rows:
        r = f"{ratio:.0%}" if ratio is not None else "-"
        cs = f"{c:.0%}" if c is not None else "-"
        rs = " ".join(f"{x:.2f}" for x in runs)
        print(f"| {off} | {streams} | {m} | {g:.2f} | {r} | {cs} | {b:.0%} | {rs} |")
    for (off, m), err in sorted(last.items()):
        print(f"\nlast `{m}` run's account, offloads {off}:\n")
        for line in err.splitlines():
            print(f"    {line}")


if __name__ == "__main__":
    main()
