#!/usr/bin/env bash
# The main job on a fresh machine: build sluice, then
#  1. offline: generate a capture of synthetic lab traffic, look at it with
#     `sluice info` and `sluice print`, filter and convert it;
#  2. live, in a throwaway lab of network namespaces (needs root): put
#     `sluice bridge` between two hosts and save what crosses it, capture
#     on one side with a kernel filter, answer for an address nobody has
#     with `sluice echo`, and add 20 ms each way with `sluice impair`.
# Only 10.77.0.0/16 inside the lab's own namespaces is used; the lab goes
# away when the script ends, however it ends.
set -euo pipefail
cd "$(dirname "$0")"
cargo build --release --quiet -p sluice --bins --examples
target="${CARGO_TARGET_DIR:-target}/release"
sluice="$target/sluice"
work="$(mktemp -d)"
prefix="demo$$"
pids=()
cleanup() {
    for p in "${pids[@]}"; do kill -INT "$p" 2>/dev/null || true; done
    wait 2>/dev/null || true
    if [ "$(id -u)" = 0 ]; then "$sluice" lab down --prefix "$prefix" >/dev/null 2>&1 || true; fi
    rm -rf "$work"
}
trap cleanup EXIT

step() { echo; echo "== $*"; }

"$target/examples/gencap" --count 20000 -w "$work/demo.pcapng"
step "sluice info demo.pcapng"
"$sluice" info "$work/demo.pcapng"
step "sluice print -r demo.pcapng -c 10 -e"
"$sluice" print -r "$work/demo.pcapng" -c 10 -e
step "sluice filter -r demo.pcapng -w syn.pcapng 'tcp[tcpflags] & tcp-syn != 0'"
"$sluice" filter -r "$work/demo.pcapng" -w "$work/syn.pcapng" 'tcp[tcpflags] & tcp-syn != 0'
step "sluice compile -d tcp port 80"
"$sluice" compile -d tcp port 80
step "sluice convert demo.pcapng demo.pcap, then info --json"
"$sluice" convert "$work/demo.pcapng" "$work/demo.pcap"
"$sluice" info --json "$work/demo.pcap"

if [ "$(id -u)" != 0 ]; then
    echo
    echo "The live part needs root (network namespaces, packet sockets): run ./demo.sh as root to see it."
    exit 0
fi

# Starts `sluice ARGS...` in namespace NS in the background, output to LOG.
start() {
    local ns=$1 log=$2
    shift 2
    ip netns exec "$ns" "$sluice" "$@" >"$log" 2>&1 &
    pids+=($!)
}
# Stops the last started sluice with SIGINT and shows its summary.
stop_last() {
    local p=${pids[-1]}
    kill -INT "$p" 2>/dev/null || true
    wait "$p" 2>/dev/null || true
    unset 'pids[-1]'
}
# Waits (10 s at most) until h reaches ADDR.
reach() {
    for _ in $(seq 50); do
        ip netns exec "${prefix}h" ping -c 1 -W 0.2 "$1" >/dev/null 2>&1 && return 0
    done
    echo "h cannot reach $1" >&2
    return 1
}

step "sluice lab up --prefix $prefix (namespaces ${prefix}h, ${prefix}m, ${prefix}n)"
"$sluice" lab up --prefix "$prefix" | head -4
x=$(ip -n "${prefix}h" -4 -o addr show dev eth0 | sed -n 's/.*10\.77\.\([0-9]*\)\.1\/24.*/\1/p')
n_ip="10.77.$x.2"

step "sluice bridge in ${prefix}m between up0 and lo0, saving what crosses to bridge.pcapng"
start "${prefix}m" "$work/bridge.log" bridge --upper up0 --lower lo0 -q --write "$work/bridge.pcapng"
reach "$n_ip"
step "sluice capture on ${prefix}n's eth0, kernel filter 'icmp', while h pings n"
start "${prefix}n" "$work/capture.log" capture -i eth0 -w "$work/n.pcapng" icmp
sleep 0.5
ip netns exec "${prefix}h" ping -c 5 -i 0.2 -q "$n_ip"
sleep 0.3
stop_last
cat "$work/capture.log"
"$sluice" print -r "$work/n.pcapng" -c 4
stop_last
step "what the bridge saw (bridge.log and bridge.pcapng)"
cat "$work/bridge.log"
"$sluice" info "$work/bridge.pcapng" | head -12

step "sluice echo: 10.77.$x.99 answers ARP and ping, though nobody has it"
start "${prefix}m" "$work/echo.log" echo --upper up0 --lower lo0 -q --ip "10.77.$x.99"
reach "10.77.$x.99"
ip netns exec "${prefix}h" ping -c 3 -i 0.2 "10.77.$x.99"
stop_last
tail -1 "$work/echo.log"

step "sluice impair --delay 20ms: the round trip h → n → h grows by 40 ms"
start "${prefix}m" "$work/impair.log" impair --upper up0 --lower lo0 -q --delay 20ms
reach "$n_ip"
ip netns exec "${prefix}h" ping -c 5 -i 0.2 -q "$n_ip"
stop_last
tail -2 "$work/impair.log"

step "sluice lab down --prefix $prefix"
"$sluice" lab down --prefix "$prefix"
