#!/usr/bin/env bash
# Creates .venv and installs a pinned requirements file into it, once per change of that file.
# Usage: tools/ensure_venv.sh REQUIREMENTS_FILE (PYTHON=python3.12 picks another interpreter)
# Python 3.11 or newer is needed. On a fresh Debian machine python3-venv may be missing; as root
# we install it with apt-get, otherwise we say so.
set -euo pipefail
req="$1"
venv="${VENV:-.venv}"
py="${PYTHON:-python3}"

if ! command -v "$py" >/dev/null 2>&1; then
  echo "error: $py not found; install Python 3.11 or newer (Debian: apt-get install python3 python3-venv)" >&2
  exit 1
fi
if ! "$py" -c 'import sys; sys.exit(sys.version_info < (3, 11))'; then
  echo "error: Watercooler needs Python 3.11 or newer; $(command -v "$py") is" \
    "$("$py" -c 'import platform; print(platform.python_version())')" \
    "(Debian 12's python3 is 3.11; PYTHON=python3.X make ... picks another)" >&2
  exit 1
fi
if [ ! -x "$venv/bin/python" ]; then
  # Debian splits venv's pip bootstrap (ensurepip) into python3-venv.
  if ! "$py" -c 'import ensurepip, venv' 2>/dev/null; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
      echo "$py has no venv/ensurepip: installing python3-venv with apt-get" >&2
      apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q python3-venv
    else
      echo "error: $py cannot create virtual environments (no venv/ensurepip);" \
        "install python3-venv (Debian: sudo apt-get install python3-venv)" >&2
      exit 1
    fi
  fi
  if ! "$py" -m venv "$venv"; then
    rm -rf "$venv"
    echo "error: '$py -m venv $venv' failed (above: why)" >&2
    exit 1
  fi
fi

stamp="$venv/.installed-$(basename "$req")"
# Reinstall when any requirements file changed since the last install.
if [ ! -f "$stamp" ] || [ -n "$(find requirements*.txt -newer "$stamp" 2>/dev/null)" ]; then
  "$venv/bin/python" -m pip install -q --disable-pip-version-check -r "$req"
  touch "$stamp"
fi
