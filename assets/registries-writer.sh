#!/bin/sh
# Init container of the k3s-devreg registries writer DaemonSet (POSIX sh, busybox applets only);
# with the argument `check`, the readiness probe of the pod's long-running container (see below).
# On its node it finds the registries.yaml that k3s or RKE2 reads (resolve_target below), writes it
# (and the CA) from the mounted Secret, only when the content differs, atomically (temp file in the
# same folder + mv), and logs a unified diff in which every username/password/auth/identity_token
# value, and every value under an auth: or auths: key whatever its key, is <REDACTED>. It never prints
# a secret: the new side comes pre-redacted from the Secret, the old side is redacted here BEFORE diffing.
# Where it cannot tell which file is read, it writes nothing and says why in one line.
set -eu
umask 077

SRC_DIR=${SRC_DIR:-/run/k3s-devreg/config}
# The host's /etc/rancher (k3s's and RKE2's configuration), and the per-node table from registries apply.
HOST_RANCHER=${HOST_RANCHER:-/host/etc/rancher}
NODES_FILE=${NODES_FILE:-$(dirname "$0")/nodes}
CA_DEST_DIR=${CA_DEST_DIR:-/host/etc/k3s-devreg}
TERMINATION_LOG=${TERMINATION_LOG:-/dev/termination-log}
NODE=${NODE_NAME:-$(hostname)}
MODE=${1:-write}

# One line that says why nothing is written. The writer then ends with 0, so the kubelet does not
# restart it in a loop (a crash-looping container's status holds only the wait, not this line):
# `registries status` reads `refused: ...` from the termination message, and the probe (exit 3) keeps
# the pod unready.
refuse() {
  echo "$*"
  [ "$MODE" = check ] && exit 3
  { echo "refused: $*" > "$TERMINATION_LOG"; } 2>/dev/null || true
  exit 0
}

# The value of a top-level private-registry key in config file $1 ("" when it has none). k3s reads
# the file as YAML (k3s pkg/configfilearg/parser.go); this reads only the plain forms: block style
# `private-registry: /path` (quoted or not, at column 0) and a JSON document's `"private-registry": "/path"`
# line (as Rancher writes config.yaml.d/50-rancher.yaml). Any other mention of the key as a key (`+:`,
# a multi-line or flow value, an anchor, a key inside a one-line object) prints `?`: unsure means refuse.
config_value() {
  awk -v q="'" '
    BEGIN { json = -1; value = ""; bad = 0 }
    /^[ \t]*#/ || /^[ \t]*$/ { next }
    json < 0 { json = ($0 ~ /^[ \t]*\{/) }
    $0 !~ ("(^|[{,\"" q " \t])private-registry[\"" q " \t]*[+]?[\"" q " \t]*:") { next }
    {
      line = $0
      pat = json ? "^[ \t{]*\"private-registry\"[ \t]*:[ \t]*" : "^(private-registry|\"private-registry\"|" q "private-registry" q ")[ \t]*:[ \t]*"
      if (!match(line, pat)) { bad = 1; next }
      rest = substr(line, RLENGTH + 1)
      if (json) sub(/[ \t]*,?[ \t]*}?[ \t]*$/, "", rest); else sub(/[ \t]+#.*$/, "", rest)
      sub(/[ \t]+$/, "", rest)
      if (rest ~ /^"[^"\\]*"$/ || rest ~ ("^" q "[^" q "]*" q "$")) rest = substr(rest, 2, length(rest) - 2)
      else if (json) { bad = 1; next }
      if (rest !~ /^\/[A-Za-z0-9._\/-]+$/) { bad = 1; next }
      value = rest
    }
    END { print (bad ? "?" : value) }' "$1"
}

# Sets DISTRO (k3s or rke2), TARGET (the host path k3s/RKE2 reads) and DEST (that file here), or refuses.
# The program and the node-args path come from registries apply (NODES_FILE: `NODE DISTRO PATH`);
# without a line for this node (registries render, a node added since), the host says which program.
resolve_target() {
  line=$(awk -v n="$NODE" '$1 == n { print $2 " " $3; exit }' "$NODES_FILE" 2>/dev/null || true)
  DISTRO=${line%% *}
  started=${line#* }
  if [ -z "$line" ]; then
    started=-
    if [ -d "$HOST_RANCHER/rke2" ] && [ -d "$HOST_RANCHER/k3s" ]; then
      refuse "node $NODE has both /etc/rancher/k3s and /etc/rancher/rke2, and no word from the cluster on which runs: nothing written; use k3s-devreg registries apply (it asks the cluster), or remove the folder of the one that does not run here"
    elif [ -d "$HOST_RANCHER/rke2" ]; then DISTRO=rke2
    else DISTRO=k3s
    fi
  fi
  case "$DISTRO" in k3s | rke2) ;; *) refuse "node $NODE: unknown program '$DISTRO' in the writer's node table: nothing written; run k3s-devreg registries apply again" ;; esac
  # The config file, then its drop-ins in name order (*.yaml, *.yml, any case); the last value wins.
  config=/etc/rancher/$DISTRO/config.yaml
  TARGET=/etc/rancher/$DISTRO/registries.yaml
  from="the default"
  dropins=$(ls -1 "$HOST_RANCHER/$DISTRO/config.yaml.d" 2>/dev/null | grep -i -E '[.]ya?ml$' || true)
  if printf '%s\n' "$dropins" | grep -q '[[:space:]*?[]'; then
    refuse "node $NODE: a file name in $config.d has a space or a wildcard character: nothing written; rename it, then apply again"
  fi
  for file in "$config" $(printf '%s\n' "$dropins" | sed "/^$/d; s|^|$config.d/|"); do
    [ -f "$HOST_RANCHER${file#/etc/rancher}" ] || continue
    value=$(config_value "$HOST_RANCHER${file#/etc/rancher}")
    if [ "$value" = "?" ]; then
      refuse "node $NODE: cannot read the private-registry setting in $file (only a plain \"private-registry: /path\" line is understood): nothing written; write it that way, then apply again"
    fi
    if [ -n "$value" ]; then TARGET=$value; from="private-registry in $file"; fi
  done
  # The running program recorded its merged config and command line (node-args): they must agree.
  if [ "$started" != - ] && [ "$started" != "$TARGET" ]; then
    refuse "node $NODE: $DISTRO started with private-registry $started, but its config files now give $TARGET ($from); a command-line flag or a config changed since the start cannot be told apart: nothing written; restart $DISTRO on this node or align its config, then apply again"
  fi
  case "$TARGET" in
    */../* | */..) refuse "node $NODE: $DISTRO reads $TARGET ($from), a path with '..': nothing written; give private-registry a plain path under /etc/rancher/$DISTRO" ;;
    /etc/rancher/*) ;;
    *) refuse "node $NODE: $DISTRO reads $TARGET ($from), outside /etc/rancher, the only folder the writer can reach: nothing written; point private-registry under /etc/rancher/$DISTRO, or write that file yourself" ;;
  esac
  DEST=$HOST_RANCHER${TARGET#/etc/rancher}
  if [ -d "$DEST" ]; then refuse "node $NODE: $TARGET ($from) is a folder: nothing written; point private-registry at a file"; fi
}

resolve_target
SHOWN=$TARGET
TMP=$DEST.k3s-devreg-tmp.$$
CA_TMP=$CA_DEST_DIR/ca.crt.k3s-devreg-tmp.$$

# `check`: the readiness probe of the pod's long-running container (every 10s). Exit 0 only while
# the host holds exactly the Secret's file (and CA) NOW, so `registries status` sees later edits.
# Reads only (its mounts are read-only); the one line it prints (in pod events) names no value.
if [ "$MODE" = check ]; then
  # Salted, like the summary below: the same checksum `registries status` expects.
  salted() { cat "$SRC_DIR/salt" "$1" | sha256sum | cut -d ' ' -f 1; }
  if [ ! -f "$DEST" ]; then echo "$SHOWN is missing"; exit 1; fi
  if [ "$(salted "$DEST")" != "$(salted "$SRC_DIR/registries.yaml")" ]; then
    echo "$SHOWN differs from the Secret (edited on the host since the writer ran, or the Secret changed)"; exit 1
  fi
  if [ -f "$SRC_DIR/ca.crt" ] && ! cmp -s "$SRC_DIR/ca.crt" "$CA_DEST_DIR/ca.crt"; then
    echo "/etc/k3s-devreg/ca.crt differs from the Secret"; exit 1
  fi
  exit 0
fi

WORK=$(mktemp -d)
trap 'rm -rf "$WORK" "$TMP" "$CA_TMP"' EXIT

# Secret values of a registries.yaml on the host, which a person may have written in any style:
# block (key: value, quoted, multi-line, block scalars), flow ({password: x}) and URL user:pass@.
# Every username/password/auth/identity_token value is a secret, and so is EVERY value nested under
# an auth: or auths: key, whatever its key (a typo such as token: that --no-strict let through); only
# keys and nulls are shown there. Comment lines are dropped (they may mention a password). Unsure
# means redacted.
redact() {
  awk -v q="'" '
    BEGIN {
      skip = -1; block = -1
      KEY = "[\"" q "]?(username|password|auth|auths|identity_token)[\"" q "]?[ \t]*:"
      # Any mapping key: quoted, or plain (a plain key cannot hold ": ", so it never eats the value).
      ANYKEY = "(\"[^\"]*\"|" q "[^" q "]*" q "|[^ \t:#\"" q "{\\[,]([^:\t#]|:[^ \t])*)[ \t]*:([ \t]|$)"
      # Values that hold nothing: null, and an empty mapping or list.
      EMPTY = "^(null|Null|NULL|~|\\{\\}|\\[\\])[ \t]*(#.*)?$"
    }
    {
      line = $0
      # Comment lines go first, so that one at column 0 inside a block neither ends it nor shows.
      if (line ~ /^[ \t]*#/) next
      match(line, /^[ -]*/); col = RLENGTH
      # Continuation lines of a value already shown as <REDACTED>.
      if (skip >= 0) {
        if (line ~ /^[ \t]*$/) next
        if (col > skip) next
        skip = -1
      }
      # Leaving an auth:/auths: block: a line indented no deeper than its key.
      if (block >= 0 && line !~ /^[ \t]*$/ && col <= block) block = -1
      gsub(/:\/\/[^\/@ \t]+@/, "://<REDACTED>@", line)
      if (block >= 0) {
        if (line ~ /^[ \t]*$/) { print line; next }
        if (match(line, "^[ -]*" ANYKEY)) {
          head = substr(line, 1, RLENGTH); rest = substr(line, RLENGTH + 1)
          sub(/[ \t]+$/, "", head); sub(/^[ \t]+/, "", rest)
          if (rest ~ EMPTY) { sub(/[ \t]*#.*$/, "", rest); print head " " rest; next }
          # "key:" alone opens a mapping or a list (processed line by line), or starts a multi-line
          # plain value (its lines have no key and are dropped below).
          if (rest ~ /^(#.*)?$/) { print head; next }
          print head " <REDACTED>"; skip = col; next
        }
        # A list item with a value: the dash stays, the value goes with its continuation lines.
        if (match(line, /^[ \t]*-([ \t]|$)/)) { print substr(line, 1, RLENGTH) (line ~ /^[ \t]*-[ \t]*$/ ? "" : "<REDACTED>"); skip = col; next }
        # Anything else inside the block is part of a value.
        next
      }
      if (match(line, "^[ -]*" KEY)) {
        head = substr(line, 1, RLENGTH); rest = substr(line, RLENGTH + 1)
        sub(/^[ \t]+/, "", rest)
        if (rest ~ EMPTY) { sub(/[ \t]*#.*$/, "", rest); print head " " rest; next }
        # "auth:"/"auths:" alone opens a block whose every value is a secret.
        if (rest ~ /^(#.*)?$/ && head ~ ("auths?[\"" q "]?[ \t]*:$")) { block = col; print head; next }
        # The value may continue on more indented lines.
        skip = col
        print head " <REDACTED>"; next
      }
      # Flow style: everything after the key goes, and so do the lines a flow collection continues on.
      if (match(line, "[{,][ \t]*" KEY)) { print substr(line, 1, RSTART + RLENGTH - 1) " <REDACTED>"; skip = col; next }
      print line
    }' "$1"
}

# Replace $2 with the content of $1 through the temp file $3 (same folder, so mv is a rename) with
# mode $4: k3s sees the old file or the new one, never half of one.
install_atomic() {
  cat "$1" > "$3"
  chmod "$4" "$3"
  mv -f "$3" "$2"
}

echo "k3s-devreg registries writer on node $NODE"
mkdir -p "$(dirname "$DEST")"
if [ -f "$DEST" ] && cmp -s "$SRC_DIR/registries.yaml" "$DEST"; then
  result=unchanged
  echo "$SHOWN: unchanged (not rewritten)"
else
  if [ -f "$DEST" ]; then
    result=updated
    redact "$DEST" > "$WORK/current"
    if cmp -s "$WORK/current" "$SRC_DIR/registries.redacted.yaml"; then
      echo "$SHOWN: only redacted values (credentials) changed"
    else
      echo "$SHOWN: changes (secrets redacted):"
      diff -U 3 -L "$SHOWN (current)" -L "$SHOWN (new)" "$WORK/current" "$SRC_DIR/registries.redacted.yaml" || true
    fi
    # A file someone wrote by hand is kept once, so applying k3s-devreg can be undone.
    if ! head -n 1 "$DEST" | grep -q 'k3s-devreg' && [ ! -e "$DEST.before-k3s-devreg" ]; then
      cp "$DEST" "$DEST.before-k3s-devreg"
      echo "kept the previous file as $SHOWN.before-k3s-devreg"
    fi
  else
    result=created
    echo "$SHOWN: new file (secrets redacted):"
    sed 's/^/  /' "$SRC_DIR/registries.redacted.yaml"
  fi
  install_atomic "$SRC_DIR/registries.yaml" "$DEST" "$TMP" 600
fi

ca=none
if [ -f "$SRC_DIR/ca.crt" ]; then
  ca=$(sha256sum "$SRC_DIR/ca.crt" | cut -d ' ' -f 1)
  if [ -f "$CA_DEST_DIR/ca.crt" ] && cmp -s "$SRC_DIR/ca.crt" "$CA_DEST_DIR/ca.crt"; then
    echo "/etc/k3s-devreg/ca.crt: unchanged"
  else
    install_atomic "$SRC_DIR/ca.crt" "$CA_DEST_DIR/ca.crt" "$CA_TMP" 644
    echo "/etc/k3s-devreg/ca.crt: written"
  fi
fi

# Salted, so the checksum in logs and pod status is no oracle for guessing a password.
checksum=$(cat "$SRC_DIR/salt" "$DEST" | sha256sum | cut -d ' ' -f 1)
summary="result=$result checksum=$checksum ca=$ca path=$TARGET"
echo "k3s-devreg: $summary"
if [ "$DISTRO" = rke2 ]; then restart="rke2-server (server) or rke2-agent (agent)"; else restart="k3s (server) or k3s-agent (agent)"; fi
[ "$result" = unchanged ] || echo "$DISTRO reads this file only at start: on this node run sudo systemctl restart $restart"
# `registries status` reads this line from the pod status (terminationMessagePath).
{ echo "$summary" > "$TERMINATION_LOG"; } 2>/dev/null || true
