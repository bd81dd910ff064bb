"""The protocol and room logic stay free of I/O: importing them pulls in no network library."""

from __future__ import annotations

import subprocess
import sys

from tests.support.processes import ROOT

PURE_MODULES = [
    "signaling.protocol",
    "signaling.rooms",
    "signaling.tickets",
    "signaling.ratelimit",
    "signaling.errors",
    "signaling.ice",
    "signaling.config",
]
IO_MODULES = ["aiohttp", "asyncio", "redis", "django"]  # (PyJWT itself imports socket)


def test_pure_modules_import_no_io_library() -> None:
    code = (
        "import sys\n"
        f"for name in {PURE_MODULES!r}: __import__(name)\n"
        f"print(','.join(m for m in {IO_MODULES!r} if m in sys.modules))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert done.stdout.strip() == ""


def test_signaling_never_imports_django() -> None:
    code = "import sys, signaling.app, signaling.__main__; print('django' in sys.modules)"
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert done.stdout.strip() == "False"
