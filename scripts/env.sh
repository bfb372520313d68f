# Sourced by the other scripts: tool paths.
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export PATH="$ROOT/tools/binaryen/node_modules/.bin:$HOME/.cargo/bin:$PATH"
# ansible-playbook for deployment scripts (installed by setup.sh).
export PROVISIO_ANSIBLE_PLAYBOOK="${PROVISIO_ANSIBLE_PLAYBOOK:-$ROOT/.venv-ansible/bin/ansible-playbook}"
