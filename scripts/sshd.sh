#!/usr/bin/env bash
# Two throwaway sshd test hosts on 127.0.0.1 (ports P and P+1, each with its own host key): the
# "servers" provisioning waits for and playbooks run against. Keys live in the runtime dir;
# nothing touches the system sshd.
#   scripts/sshd.sh start DIR   → writes DIR/sshd.env (PROVISIO_TEST_SSH_*)
#   scripts/sshd.sh stop DIR
set -euo pipefail
cmd="${1:?start|stop}"
dir="$(mkdir -p "${2:?runtime dir}" && cd "$2" && pwd)/ssh"
port="${PROVISIO_TEST_SSH_PORT:-2222}"
port_b=$((port + 1))

start_host() { # name port
  local name="$1" p="$2"
  [[ -f "$dir/hostkey_$name" ]] || ssh-keygen -q -t ed25519 -N '' -f "$dir/hostkey_$name"
  cat >"$dir/sshd_config_$name" <<CONF
Port $p
ListenAddress 127.0.0.1
HostKey $dir/hostkey_$name
AuthorizedKeysFile $dir/authorized_keys
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
PermitRootLogin prohibit-password
UsePAM no
StrictModes no
PidFile $dir/sshd_$name.pid
Subsystem sftp internal-sftp
CONF
  /usr/sbin/sshd -t -f "$dir/sshd_config_$name"
  /usr/sbin/sshd -D -e -f "$dir/sshd_config_$name" >"$dir/sshd_$name.log" 2>&1 &
  echo $! >"$dir/sshd_$name.bgpid"
  for _ in $(seq 1 50); do
    ssh-keyscan -p "$p" -t ed25519 127.0.0.1 >/dev/null 2>&1 && break
    sleep 0.1
  done
}

case "$cmd" in
start)
  mkdir -p "$dir"
  [[ -f "$dir/client_ed25519" ]] || ssh-keygen -q -t ed25519 -N '' -f "$dir/client_ed25519"
  cp "$dir/client_ed25519.pub" "$dir/authorized_keys"
  if [[ ! -d /run/sshd ]]; then
    if [[ $EUID -eq 0 ]]; then mkdir -p /run/sshd; else sudo mkdir -p /run/sshd; fi
  fi
  start_host a "$port"
  start_host b "$port_b"
  fingerprint="$(ssh-keygen -lf "$dir/hostkey_a.pub" | awk '{print $2}')"
  fingerprint_b="$(ssh-keygen -lf "$dir/hostkey_b.pub" | awk '{print $2}')"
  cat >"$(dirname "$dir")/sshd.env" <<ENV
export PROVISIO_TEST_SSH_PORT='$port'
export PROVISIO_TEST_SSH_FINGERPRINT='$fingerprint'
export PROVISIO_TEST_SSH_PORT_B='$port_b'
export PROVISIO_TEST_SSH_FINGERPRINT_B='$fingerprint_b'
export PROVISIO_TEST_SSH_CLIENT_KEY='$dir/client_ed25519'
ENV
  echo "sshd test hosts on 127.0.0.1:$port ($fingerprint) and :$port_b ($fingerprint_b)"
  ;;
stop)
  for name in a b; do
    [[ -f "$dir/sshd_$name.bgpid" ]] && kill "$(cat "$dir/sshd_$name.bgpid")" 2>/dev/null || true
    rm -f "$dir/sshd_$name.bgpid"
  done
  ;;
*) echo "usage: $0 start|stop DIR" >&2; exit 2 ;;
esac
