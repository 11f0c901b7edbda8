#!/bin/sh
# Init container of the k3s-devreg registries writer DaemonSet (POSIX sh, busybox applets only).
# On its node it writes /etc/rancher/k3s/registries.yaml (and the CA) from the mounted Secret, only
# when the content differs, atomically (temp file in the same folder + mv), and logs a unified diff
# in which every username/password/auth/identity_token value is <REDACTED>. It never prints a secret:
# the new side comes pre-redacted from the Secret, the old side is redacted here BEFORE diffing.
set -eu
umask 077

SRC_DIR=${SRC_DIR:-/run/k3s-devreg/config}
DEST_DIR=${DEST_DIR:-/host/etc/rancher/k3s}
CA_DEST_DIR=${CA_DEST_DIR:-/host/etc/k3s-devreg}
TERMINATION_LOG=${TERMINATION_LOG:-/dev/termination-log}
SHOWN=/etc/rancher/k3s/registries.yaml
NODE=${NODE_NAME:-$(hostname)}
DEST=$DEST_DIR/registries.yaml
TMP=$DEST.k3s-devreg-tmp.$$
CA_TMP=$CA_DEST_DIR/ca.crt.k3s-devreg-tmp.$$
WORK=$(mktemp -d)
trap 'rm -rf "$WORK" "$TMP" "$CA_TMP"' EXIT

# Secret values of a registries.yaml on the host, which a person may have written in any style:
# block (key: value, quoted, multi-line, block scalars), flow ({password: x}) and URL user:pass@.
# Comment lines are dropped (they may mention a password). Unsure means redacted.
redact() {
  awk '
    BEGIN { skip = -1; KEY = "[\"'"'"']?(username|password|auth|identity_token)[\"'"'"']?[ \t]*:" }
    {
      line = $0
      match(line, /^[ -]*/); col = RLENGTH
      if (skip >= 0) {
        if (line ~ /^[ \t]*$/) next
        if (col > skip && !(nested && line ~ /^[ -]*["'"'"']?[A-Za-z_][A-Za-z0-9_-]*["'"'"']?[ \t]*:([ \t]|$)/)) next
        skip = -1; nested = 0
      }
      if (line ~ /^[ \t]*#/) next
      gsub(/:\/\/[^\/@ \t]+@/, "://<REDACTED>@", line)
      if (match(line, "^[ -]*" KEY)) {
        head = substr(line, 1, RLENGTH); rest = substr(line, RLENGTH + 1)
        sub(/^[ \t]+/, "", rest)
        if (rest ~ /^(null|Null|NULL|~)[ \t]*(#.*)?$/) { sub(/[ \t]*#.*$/, "", rest); print head " " rest; next }
        # The value may continue on more indented lines; "auth:" alone may open a mapping instead.
        skip = col; nested = (rest ~ /^(#.*)?$/ && head ~ /auth["'"'"']?[ \t]*:$/)
        print (nested ? head : head " <REDACTED>"); next
      }
      if (match(line, "[{,][ \t]*" KEY)) { print substr(line, 1, RSTART + RLENGTH - 1) " <REDACTED>"; next }
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
mkdir -p "$DEST_DIR"
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
summary="result=$result checksum=$checksum ca=$ca"
echo "k3s-devreg: $summary"
[ "$result" = unchanged ] || echo "k3s reads this file only at start: on this node run sudo systemctl restart k3s (server) or k3s-agent (agent)"
# `registries status` reads this line from the pod status (terminationMessagePath).
{ echo "$summary" > "$TERMINATION_LOG"; } 2>/dev/null || true
