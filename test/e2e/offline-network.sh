#!/usr/bin/env bash
# Cuts, and gives back, this machine's outbound network for the offline e2e suite (offline.test.ts).
# Meant for a throw-away CI runner (GitHub's ubuntu runners: passwordless sudo); it needs root.
#
#   sudo test/e2e/offline-network.sh cut [MINUTES]   refuse new outbound connections; restored by a
#                                                     watchdog after MINUTES (default 20) whatever happens
#   sudo test/e2e/offline-network.sh restore         remove every rule of ours (idempotent: the workflow
#                                                     runs it after the suites, pass or fail)
#   sudo test/e2e/offline-network.sh status          exit 0 while cut; the rules with their counters
#   sudo test/e2e/offline-network.sh log             the refused connections logged since the cut
#
# What is refused: a NEW connection (TCP SYN, first UDP datagram...) leaving this machine, from the host
# itself (chain OUTPUT: dockerd's pulls, BuildKit's lookups, containerd, this runner) or routed for a
# docker container (chain DOCKER-USER, which docker evaluates first in FORWARD and never rewrites; FORWARD
# itself when docker keeps no DOCKER-USER, as with its nftables backend), unless it goes to
#   - loopback (lo, 127.0.0.0/8, ::1) and the docker bridges (docker0, br-*: every k3d network),
#   - the private ranges 10/8, 172.16/12, 192.168/16 (docker's default pools; the runner's own subnet),
#     fc00::/7 and link-local fe80::/10,
#   - multicast and the broadcast address (local by definition).
# Everything else is the internet, Azure's DNS and metadata (168.63.129.16, 169.254.169.254) included.
# Connections open before the cut (ESTABLISHED, RELATED) go on: the runner keeps its link to GitHub.
# Refused means REJECT (a TCP reset, or ICMP port unreachable), not DROP: a program that tries fails at
# once with "connection refused" instead of hanging in timeouts, so a test shows what tried.
# Each refusal is logged (kernel log, prefix "k3s-devreg-offline: ", with the socket's UID for the
# host's own connections; rate-limited) so the suite can print who tried to reach what.
#
# All rules live in one chain of ours, K3S_DEVREG_OFFLINE (IPv4 and IPv6), reached by one jump from
# each hook: restore deletes the jumps and the chain, and touches nothing else.
set -euo pipefail

CHAIN=K3S_DEVREG_OFFLINE
PREFIX='k3s-devreg-offline: '
STATE=/run/k3s-devreg-offline
self=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/$(basename "${BASH_SOURCE[0]}")

[[ $(id -u) -eq 0 ]] || { echo "offline-network: run as root (sudo $0 $*)" >&2; exit 1; }

# The hooks of one family: OUTPUT, and DOCKER-USER or else FORWARD.
hooks() {
  local tables=$1
  echo OUTPUT
  if "$tables" -w -n -L DOCKER-USER >/dev/null 2>&1; then echo DOCKER-USER; else echo FORWARD; fi
}

remove() {
  local tables=$1 hook
  command -v "$tables" >/dev/null || return 0
  for hook in OUTPUT DOCKER-USER FORWARD; do
    while "$tables" -w -D "$hook" -j "$CHAIN" 2>/dev/null; do :; done
  done
  if "$tables" -w -n -L "$CHAIN" >/dev/null 2>&1; then
    "$tables" -w -F "$CHAIN"
    "$tables" -w -X "$CHAIN"
  fi
}

install() {
  local tables=$1 hook net
  shift
  "$tables" -w -N "$CHAIN"
  "$tables" -w -A "$CHAIN" -m conntrack --ctstate ESTABLISHED,RELATED -j RETURN
  for iface in lo docker0 'br-+'; do "$tables" -w -A "$CHAIN" -o "$iface" -j RETURN; done
  for net in "$@"; do "$tables" -w -A "$CHAIN" -d "$net" -j RETURN; done
  "$tables" -w -A "$CHAIN" -m limit --limit 60/minute --limit-burst 60 -j LOG --log-prefix "$PREFIX" --log-uid
  "$tables" -w -A "$CHAIN" -p tcp -j REJECT --reject-with tcp-reset
  "$tables" -w -A "$CHAIN" -j REJECT
  for hook in $(hooks "$tables"); do "$tables" -w -I "$hook" 1 -j "$CHAIN"; done
}

restore() {
  remove iptables
  remove ip6tables
  if [[ -f "$STATE.pid" ]]; then
    local pid
    pid=$(cat "$STATE.pid")
    # The watchdog runs this very script when its time is up (exec: the same pid); never kill ourselves.
    if [[ "$pid" != "$$" ]] && grep -qF "$self" "/proc/$pid/cmdline" 2>/dev/null; then kill "$pid" 2>/dev/null || true; fi
    rm -f "$STATE.pid"
  fi
  echo 'offline-network: outbound network restored'
}

case "${1:-}" in
  cut)
    minutes=${2:-20}
    [[ "$minutes" =~ ^[0-9]+$ && "$minutes" -gt 0 ]] || { echo "offline-network: MINUTES must be a positive number, not $minutes" >&2; exit 1; }
    # A half-made cut is undone: either every rule is in place, or none is.
    trap 'restore >/dev/null 2>&1 || true' ERR
    remove iptables
    remove ip6tables
    install iptables 127.0.0.0/8 10.0.0.0/8 172.16.0.0/12 192.168.0.0/16 224.0.0.0/4 255.255.255.255/32
    if command -v ip6tables >/dev/null && ip6tables -w -n -L OUTPUT >/dev/null 2>&1; then
      install ip6tables ::1/128 fe80::/10 fc00::/7 ff00::/8
    elif [[ -n "$(ip -6 route show default 2>/dev/null)" ]]; then
      echo 'offline-network: this machine routes IPv6 and ip6tables does not work: cannot cut it' >&2
      false
    fi
    trap - ERR
    date +%s >"$STATE.since"
    # Detached from the caller: a killed test run still gets its network back.
    nohup setsid bash -c 'sleep "$1"; exec "$2" restore' watchdog "$((minutes * 60))" "$self" </dev/null >/dev/null 2>&1 &
    echo $! >"$STATE.pid"
    echo "offline-network: new outbound connections refused (IPv4$(ip6tables -w -n -L "$CHAIN" >/dev/null 2>&1 && echo ' and IPv6')); restored by itself in ${minutes} min"
    ;;
  restore)
    restore
    ;;
  status)
    iptables -w -n -v -x -L "$CHAIN" 2>/dev/null || { echo 'offline-network: not cut'; exit 1; }
    ip6tables -w -n -v -x -L "$CHAIN" 2>/dev/null || true
    for hook in $(hooks iptables); do iptables -w -C "$hook" -j "$CHAIN" 2>/dev/null || { echo "offline-network: no jump from $hook" >&2; exit 1; }; done
    ;;
  log)
    since=$(cat "$STATE.since" 2>/dev/null || echo 0)
    if command -v journalctl >/dev/null && journalctl -k -o cat --since "@$since" >/dev/null 2>&1; then
      journalctl -k -o cat --since "@$since" | grep -F "$PREFIX" || true
    else
      dmesg | grep -F "$PREFIX" || true
    fi
    ;;
  *)
    echo "usage: sudo $0 cut [MINUTES] | restore | status | log" >&2
    exit 2
    ;;
esac
