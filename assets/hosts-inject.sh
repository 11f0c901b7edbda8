#!/bin/sh
# Keeps one line "IP ALIAS  # managed by k3s-devreg" in a node's hosts file, where IP is the
# registry Service's ClusterIP, so containerd on the node (which does not use cluster DNS) can
# reach the registry by a stable name. Run by the registry-hosts DaemonSet on every node.
#
# Env: REGISTRY_SERVICE (required, the Service's DNS name), REGISTRY_ALIAS (default
# container-registry.local), HOSTS_FILE (default /host/etc/hosts), INTERVAL (seconds, default 10),
# FALLBACK_IP (the Service's address as the kubelet put it into the pod's environment; used while
# the name does not resolve), ONCE=1 for a single pass (exit status 1 when it could not update the file).
# With the argument `check` (the pod's readiness probe): writes nothing, exits 0 only while the file
# holds exactly the one right line, so the DaemonSet's readiness says every node has it.
#
# On k3d nodes /etc/hosts is a single file bind-mounted by docker: a rename over it fails, so the
# file is rewritten in place. Docker regenerates it when the node restarts; this pod restarts with
# the node and writes the line again at once: cluster DNS is often not back yet then, so the
# Service address from the pod's environment (FALLBACK_IP) stands in until the name resolves.
set -u

SERVICE="${REGISTRY_SERVICE:?set REGISTRY_SERVICE to the registry Service DNS name}"
ALIAS="${REGISTRY_ALIAS:-container-registry.local}"
HOSTS_FILE="${HOSTS_FILE:-/host/etc/hosts}"
INTERVAL="${INTERVAL:-10}"
FALLBACK_IP="${FALLBACK_IP:-}"
MARKER='# managed by k3s-devreg'
# Only lines shaped like the ones we write are ours: an address, names, then our marker at the end.
OURS='^[0-9A-Fa-f.:]+[[:space:]]+[^#]*#[[:space:]]*managed by k3s-devreg[[:space:]]*$'

log() { echo "hosts-inject: $*"; }

# Prints the Service's first IPv4 address (else IPv6), taken only from the answer section: the
# server's own "Address:" line comes before the "Name:" line. Handles both busybox formats,
# "Address: IP" and "Address 1: IP name". The trailing dot stops search-domain expansion.
resolve() {
  nslookup "${SERVICE%.}." 2>/dev/null | awk '
    /^Name:/ { answer = 1; next }
    answer && /^Address/ {
      sub(/^Address( [0-9]+)?:[ \t]*/, "")
      split($0, f, /[ \t]+/)
      if (f[1] ~ /^[0-9]+\.[0-9]+\.[0-9]+\.[0-9]+$/) { if (v4 == "") v4 = f[1] }
      else if (f[1] ~ /^[0-9A-Fa-f:]+$/ && f[1] ~ /:/) { if (v6 == "") v6 = f[1] }
    }
    END { if (v4 != "") print v4; else if (v6 != "") print v6 }'
}

# The address the line must carry: the Service's, by DNS, else from the pod's environment.
wanted_ip() {
  ip=$(resolve)
  # Unexpanded ($(VAR) when the Service did not exist as the pod started) or not an address: unusable.
  if [ -z "$ip" ] && printf '%s' "$FALLBACK_IP" | grep -qE '^([0-9]+\.[0-9]+\.[0-9]+\.[0-9]+|[0-9A-Fa-f:]*:[0-9A-Fa-f:]+)$'; then
    log "cannot resolve $SERVICE yet; using the Service address from the pod's environment, $FALLBACK_IP"
    ip=$FALLBACK_IP
  fi
  [ -n "$ip" ]
}

# Exactly one line of ours, and it is the wanted one (wherever it sits).
is_right() {
  [ "$(grep -cE "$OURS" "$HOSTS_FILE")" = 1 ] && grep -qxF "$want" "$HOSTS_FILE"
}

# One pass. Returns 0 when the file is right (changed or not), 1 when it could not be made right.
sync_once() {
  if ! wanted_ip; then
    log "cannot resolve $SERVICE; leaving $HOSTS_FILE untouched, retrying"
    return 1
  fi
  if [ ! -f "$HOSTS_FILE" ]; then
    log "$HOSTS_FILE is not a file; retrying"
    return 1
  fi
  want="$ip $ALIAS  $MARKER"
  is_right && return 0
  tmp=$(mktemp) || { log "cannot create a temporary file; retrying"; return 1; }
  # grep -v keeps every other line byte for byte and ends the last one with a newline.
  grep -vE "$OURS" "$HOSTS_FILE" > "$tmp"
  if [ $? -gt 1 ]; then
    log "cannot read $HOSTS_FILE; retrying"
    rm -f "$tmp"
    return 1
  fi
  printf '%s\n' "$want" >> "$tmp"
  # In place: the bind-mounted file keeps its inode.
  if cat "$tmp" > "$HOSTS_FILE"; then
    log "set $ALIAS to $ip in $HOSTS_FILE"
    rm -f "$tmp"
    return 0
  fi
  log "cannot write $HOSTS_FILE; retrying"
  rm -f "$tmp"
  return 1
}

if [ "${1:-}" = check ]; then
  wanted_ip > /dev/null || { echo "cannot resolve $SERVICE"; exit 1; }
  want="$ip $ALIAS  $MARKER"
  [ -f "$HOSTS_FILE" ] && is_right && exit 0
  echo "$HOSTS_FILE lacks the line $ip $ALIAS"
  exit 1
fi

if [ "${ONCE:-0}" = 1 ]; then
  sync_once
  exit $?
fi

# As PID 1 the shell would ignore SIGTERM; exit at once so pods stop without the grace period.
trap 'exit 0' TERM INT
while :; do
  sync_once || :
  sleep "$INTERVAL" &
  wait $!
done
