#!/usr/bin/env bash
# Makes sure the system programs the tests drive are present: Debian's chromium, redis-server,
# node (18 or newer), iproute2 (network namespaces) and the PostgreSQL server programs (the
# PostgreSQL run starts a private cluster when no server is at hand). As root on Debian, missing
# ones are installed with apt-get; otherwise we say what is missing and fail (tests must never skip
# for a missing dependency in CI). valgrind is not here: only `make bench-instructions` needs it.
set -euo pipefail
NODE_MIN=18

postgres_server_installed() {
  compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null || command -v initdb >/dev/null 2>&1
}

missing=()
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
command -v redis-server >/dev/null 2>&1 || missing+=(redis-server)
command -v node >/dev/null 2>&1 || missing+=(nodejs)
command -v ip >/dev/null 2>&1 || missing+=(iproute2)
postgres_server_installed || missing+=(postgresql)
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "installing test dependencies with apt-get: ${missing[*]}" >&2
    apt-get update -q
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${missing[@]}"
  else
    echo "error: missing test dependencies: ${missing[*]} (Debian: sudo apt-get install ${missing[*]})" >&2
    exit 1
  fi
fi

node_version="$(node --version)"
node_major="${node_version#v}"
node_major="${node_major%%.*}"
if ! [ "$node_major" -ge "$NODE_MIN" ] 2>/dev/null; then
  echo "error: the JavaScript tests need Node $NODE_MIN or newer; $(command -v node) is $node_version" \
    "(Debian 12's nodejs package is 18)" >&2
  exit 1
fi
