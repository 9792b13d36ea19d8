#!/bin/sh
# Regenerates tests/data/tcpdump/: for each expression, the program that
# tcpdump (libpcap) compiles, in the three forms -d, -dd and -ddd, byte for
# byte as tcpdump prints them. The disassembler and assembler tests and the
# benchmarks read these files.
#
# Offline programs come from an empty EN10MB capture file. Programs for a
# live Linux socket (VLAN tags read through ancillary loads) come from the
# loopback device of a network namespace made for the purpose and removed
# afterwards; that part needs root and is skipped with a message otherwise.
#
# Usage: sh gen-tcpdump.sh   (from any directory; needs tcpdump)
set -eu
here=$(cd "$(dirname "$0")" && pwd)
out="$here/tcpdump"
mkdir -p "$out"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# A pcap file header: magic, version 2.4, snaplen 262144, linktype 1 (EN10MB).
printf '\324\303\262\241\002\000\004\000\000\000\000\000\000\000\000\000\000\000\004\000\001\000\000\000' \
    > "$tmp/en10mb.pcap"

or20=""
for i in $(seq 1 20); do
    or20="${or20:+$or20 or }host 10.77.0.$i"
done

# name|expression
offline() {
    cat <<LIST
tcp_port_80|tcp port 80
host|host 10.77.0.1
tcp_syn|tcp[tcpflags] & tcp-syn != 0
vlan_100|vlan 100
or20|$or20
ip|ip
ip6|ip6
arp|arp
udp_dns|udp port 53
icmp|icmp
icmp6_echo|icmp6 and ip6[40] = 128
ip_proto_gre|ip proto 47
net|net 10.77.0.0/16
partial_net|src net 10.77
ether_host|ether host 02:00:00:00:00:01
ether_broadcast|ether broadcast
ether_proto|ether proto 0x88cc
portrange|portrange 1000-2000
less|less 100
greater|greater 1000
len_arith|len - 14 > 100
ip_hlen|ip[0] & 0xf > 5
arith|ip[2:2] / 4 * 4 % 7 = 0
shifts|tcp[0:2] ^ 0xff << 2 >> 1 = 4
neg_sub|-ip[8] + 300 - 2 = 236
tcp6|ip6 and tcp port 443
qinq|vlan and vlan 200 and ip
mpls|mpls 100
pppoes|pppoes 3 and ip
not_tcp|not tcp
or_mixed|tcp[13] = 2 || udp port 53
multicast|ip multicast
unfragmented|ip and len <= 1500 and ip[6:2] & 0x1fff = 0
geneve|geneve
ether_bit|ether[0] & 1 = 0
protochain|ip6 protochain 6
tcp_data|tcp[((tcp[12:1] & 0xf0) >> 2):4] = 0x47455420
udp_x_ops|udp[8:1] * udp[9:1] | 1 = 3 and udp[10:1] & udp[11:1] = 0
LIST
}

gen() { # name expr tcpdump-args...
    name=$1
    expr=$2
    shift 2
    printf '%s\n' "$expr" > "$out/$name.expr"
    for form in d dd ddd; do
        $run tcpdump "$@" "-$form" "$expr" > "$out/$name.$form" 2> "$tmp/err" || {
            cat "$tmp/err" >&2
            exit 1
        }
    done
}

run=""
offline | while IFS='|' read -r name expr; do
    gen "$name" "$expr" -r "$tmp/en10mb.pcap"
done

# Live Linux socket programs, with ancillary loads.
live() {
    cat <<LIST
live_vlan_100|vlan 100
live_vlan_ip|vlan 100 and ether proto 0x800
live_inbound|inbound and tcp
live_outbound|outbound
LIST
}

if [ "$(id -u)" = 0 ] && command -v ip > /dev/null; then
    ns="sluice-bpf-gen-$$"
    ip netns add "$ns"
    trap 'ip netns del "$ns" 2> /dev/null; rm -rf "$tmp"' EXIT
    ip -n "$ns" link set lo up
    run="ip netns exec $ns"
    live | while IFS='|' read -r name expr; do
        gen "$name" "$expr" -i lo --no-promiscuous-mode
    done
else
    echo "not root: live programs left as they are" >&2
fi
