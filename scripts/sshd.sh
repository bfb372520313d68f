#!/usr/bin/env bash
# A throwaway sshd on 127.0.0.1 for tests: the "server" that provisioning waits for and, later,
# that playbooks run against. Keys live in the runtime dir; nothing touches the system sshd.
#   scripts/sshd.sh start DIR   → writes DIR/sshd.env (PROVISIO_TEST_SSH_*)
#   scripts/sshd.sh stop DIR
set -euo pipefail
cmd="${1:?start|stop}"
dir="$(mkdir -p "${2:?runtime dir}" && cd "$2" && pwd)/ssh"
port="${PROVISIO_TEST_SSH_PORT:-2222}"

case "$cmd" in
start)
  mkdir -p "$dir"
  [[ -f "$dir/hostkey_ed25519" ]] || ssh-keygen -q -t ed25519 -N '' -f "$dir/hostkey_ed25519"
  [[ -f "$dir/client_ed25519" ]] || ssh-keygen -q -t ed25519 -N '' -f "$dir/client_ed25519"
  cp "$dir/client_ed25519.pub" "$dir/authorized_keys"
  cat >"$dir/sshd_config" <<CONF
Port $port
ListenAddress 127.0.0.1
HostKey $dir/hostkey_ed25519
AuthorizedKeysFile $dir/authorized_keys
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
PermitRootLogin prohibit-password
UsePAM no
StrictModes no
PidFile $dir/sshd.pid
CONF
  if [[ ! -d /run/sshd ]]; then
    if [[ $EUID -eq 0 ]]; then mkdir -p /run/sshd; else sudo mkdir -p /run/sshd; fi
  fi
  /usr/sbin/sshd -t -f "$dir/sshd_config"
  /usr/sbin/sshd -D -e -f "$dir/sshd_config" >"$dir/sshd.log" 2>&1 &
  echo $! >"$dir/sshd.bgpid"
  for _ in $(seq 1 50); do
    ssh-keyscan -p "$port" -t ed25519 127.0.0.1 >/dev/null 2>&1 && break
    sleep 0.1
  done
  fingerprint="$(ssh-keygen -lf "$dir/hostkey_ed25519.pub" | awk '{print $2}')"
  cat >"$(dirname "$dir")/sshd.env" <<ENV
export PROVISIO_TEST_SSH_PORT='$port'
export PROVISIO_TEST_SSH_FINGERPRINT='$fingerprint'
export PROVISIO_TEST_SSH_CLIENT_KEY='$dir/client_ed25519'
ENV
  echo "sshd on 127.0.0.1:$port ($fingerprint)"
  ;;
stop)
  [[ -f "$dir/sshd.bgpid" ]] && kill "$(cat "$dir/sshd.bgpid")" 2>/dev/null || true
  rm -f "$dir/sshd.bgpid"
  ;;
*) echo "usage: $0 start|stop DIR" >&2; exit 2 ;;
esac
