"""How we launch Debian's Chromium for WebRTC on loopback (tests, benchmarks).

One list, because the flags are facts the code relies on (docs/webrtc.md section 1), not taste:
``--allow-loopback-in-peer-connection`` plus a granted camera/microphone permission (on the browser
context) make Chromium offer 127.0.0.1; the others keep a headless Chromium quiet on a machine with
no outside network. Never add ``--disable-features``: it would replace Playwright's own list.
Playwright's ``headless=True`` adds ``--headless``.
"""

from __future__ import annotations

from typing import Final

CHROMIUM: Final = "/usr/bin/chromium"
CHROMIUM_ARGS: Final = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--allow-loopback-in-peer-connection",
]
