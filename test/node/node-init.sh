#!/bin/sh
# PID 1 of the stand-in k3s node (test/helpers/k3s-node.ts): containerd as k3s runs it, then the
# hosts DaemonSet's script once containerd answers, as the kubelet would start the pod after a
# node restart. A containerd that exits is started again: the tests stop it to load a new
# config.toml, as a k3s restart does on a real node.
set -u
CONFIG=/var/lib/rancher/k3s/agent/etc/containerd/config.toml
SOCKET=/run/k3s/containerd/containerd.sock
LOG=/var/lib/rancher/k3s/agent/containerd/containerd.log
mkdir -p /run "$(dirname "$LOG")"
# The socket folder is a bind mount: a socket left by the previous start must not count as ready.
rm -f "$SOCKET"

(
  while :; do
    containerd --config "$CONFIG" >>"$LOG" 2>&1 &
    echo $! >/run/containerd.pid
    wait $!
  done
) &
echo $! >/run/supervisor.pid

trap 'kill $(cat /run/supervisor.pid /run/containerd.pid /run/hosts-inject.pid 2>/dev/null) 2>/dev/null; exit 0' TERM INT

until [ -S "$SOCKET" ]; do usleep 20000; done
sh /opt/k3s-devreg/hosts-inject.sh &
echo $! >/run/hosts-inject.pid
while :; do wait; done
