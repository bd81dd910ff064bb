#!/usr/bin/env bash
# Creates .venv and installs a pinned requirements file into it, once per change of that file.
# Usage: tools/ensure_venv.sh REQUIREMENTS_FILE
# On a fresh Debian machine python3-venv may be missing; as root we install it with apt-get.
set -euo pipefail
req="$1"
venv="${VENV:-.venv}"
py="${PYTHON:-python3}"

if ! command -v "$py" >/dev/null 2>&1; then
  echo "error: $py not found; install Python 3.11+ (Debian: apt-get install python3 python3-venv)" >&2
  exit 1
fi
if [ ! -x "$venv/bin/python" ]; then
  if ! "$py" -m venv "$venv" 2>/dev/null; then
    rm -rf "$venv"
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
      echo "python3 -m venv failed: installing python3-venv with apt-get" >&2
      apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q python3-venv python3-pip
      "$py" -m venv "$venv"
    else
      echo "error: '$py -m venv' failed; install python3-venv (Debian: apt-get install python3-venv)" >&2
      exit 1
    fi
  fi
fi

stamp="$venv/.installed-$(basename "$req")"
# Reinstall when any requirements file changed since the last install.
if [ ! -f "$stamp" ] || [ -n "$(find requirements*.txt -newer "$stamp" 2>/dev/null)" ]; then
  "$venv/bin/python" -m pip install -q --disable-pip-version-check -r "$req"
  touch "$stamp"
fi
