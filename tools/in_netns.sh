#!/usr/bin/env bash
# Runs a command in a fresh network namespace with only loopback up, so WebRTC (ICE checks, mDNS)
# and every service the command starts can only ever reach 127.0.0.1. Root uses a plain network
# namespace; other users get one inside a user namespace (unshare -r).
set -euo pipefail
if [ "$(id -u)" = 0 ]; then flags=(--net); else flags=(--net --map-root-user); fi
exec unshare "${flags[@]}" -- sh -c 'ip link set lo up && exec "$@"' in_netns "$@"
