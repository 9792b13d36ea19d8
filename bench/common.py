"""What the live benchmarks share: building sluice, reading the machine's
and a process's CPU time, a lab made with `sluice lab`, and an iperf3 run
across it. Imported by bridge.py and divert.py."""

import json
import os
import re
import subprocess
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def sh(cmd, check=True, **kw):
    return subprocess.run(cmd, check=check, capture_output=True, text=True, **kw)


def build():
    """Builds the sluice binary in release mode; returns its path."""
    subprocess.run(
        ["cargo", "build", "--release", "--quiet", "-p", "sluice", "--bin", "sluice"],
        cwd=ROOT,
        check=True,
    )
    target = os.environ.get("CARGO_TARGET_DIR", os.path.join(ROOT, "target"))
    return os.path.join(target, "release", "sluice")


def loadavg():
    with open("/proc/loadavg") as f:
        return " ".join(f.read().split()[:3])


def cpu_times():
    """(busy, total) jiffies over all CPUs."""
    with open("/proc/stat") as f:
        v = [int(x) for x in f.readline().split()[1:]]
    idle = v[3] + v[4]
    return sum(v) - idle, sum(v)


def proc_cpu(pid):
    """utime + stime of a process, seconds (None once it is gone)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            parts = f.read().rsplit(")", 1)[1].split()
        return (int(parts[11]) + int(parts[12])) / os.sysconf("SC_CLK_TCK")
    except (FileNotFoundError, IndexError):
        return None


class Lab:
    """A lab made by `sluice lab up` (removed by `down`): namespaces h, n
    and m, with the addresses the lab printed."""

    def __init__(self, sluice, prefix, offloads, kbridge=False):
        self.sluice = sluice
        self.prefix = prefix
        sh([sluice, "lab", "down", "--prefix", prefix], check=False)
        cmd = [sluice, "lab", "up", "--prefix", prefix, "--offloads", offloads]
        if kbridge:
            cmd.append("--kbridge")
        out = sh(cmd).stdout
        m = re.search(r"eth0 10\.77\.(\d+)\.1/24", out)
        if not m:
            raise RuntimeError("cannot read the lab's subnet from:\n" + out)
        self.x = int(m.group(1))
        self.h, self.n, self.m = prefix + "h", prefix + "n", prefix + "m"
        self.n_ip = f"10.77.{self.x}.2"
        self.n_mac = f"02:77:{self.x:02x}:00:00:02"

    def ns(self, ns, cmd):
        return ["ip", "netns", "exec", ns] + cmd

    def down(self):
        sh([self.sluice, "lab", "down", "--prefix", self.prefix], check=False)

    def rx_packets(self, ns, dev):
        out = sh(self.ns(ns, ["cat", "/proc/net/dev"])).stdout
        for line in out.splitlines():
            if line.strip().startswith(dev + ":"):
                return int(line.split(":", 1)[1].split()[1])
        raise RuntimeError(f"no {dev} in {ns}")


def iperf(lab, seconds, streams, port=5201):
    """iperf3 from h to n: (Gbit/s received, retransmits, the machine's busy
    share while it ran); (None, None, busy) when the run gave no result."""
    srv = subprocess.Popen(
        lab.ns(lab.n, ["iperf3", "-s", "-1", "-p", str(port)]),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    time.sleep(0.3)
    b0, t0 = cpu_times()
    try:
        r = sh(
            lab.ns(lab.h, ["iperf3", "-c", lab.n_ip, "-p", str(port), "-t", str(seconds),
                           "-P", str(streams), "-J"]),
            check=False,
            timeout=seconds + 30,
        )
        j = json.loads(r.stdout) if r.stdout.strip() else {}
        bps = j.get("end", {}).get("sum_received", {}).get("bits_per_second")
        retr = j.get("end", {}).get("sum_sent", {}).get("retransmits")
        gbps = bps / 1e9 if bps else None
    except (subprocess.TimeoutExpired, json.JSONDecodeError):
        gbps, retr = None, None
    finally:
        try:
            srv.wait(timeout=5)
        except subprocess.TimeoutExpired:
            srv.kill()
            srv.wait()
    b1, t1 = cpu_times()
    return gbps, retr, (b1 - b0) / max(1, t1 - t0)
