#!/usr/bin/env bash
# The main job on a fresh machine: build sluice, generate a capture of
# synthetic lab traffic, and look at it with `sluice info` and `sluice print`.
set -euo pipefail
cd "$(dirname "$0")"
cargo build --release --quiet -p sluice --bins --examples
target="${CARGO_TARGET_DIR:-target}/release"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

"$target/examples/gencap" --count 20000 -w "$work/demo.pcapng"
echo
echo "== sluice info demo.pcapng"
"$target/sluice" info "$work/demo.pcapng"
echo
echo "== sluice print -r demo.pcapng -c 15 -e"
"$target/sluice" print -r "$work/demo.pcapng" -c 15 -e
echo
echo "== sluice convert demo.pcapng demo.pcap, then info --json"
"$target/sluice" convert "$work/demo.pcapng" "$work/demo.pcap"
"$target/sluice" info --json "$work/demo.pcap"
