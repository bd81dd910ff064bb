"""Layers: the session core and the protocol stay free of I/O; aiohttp's internals are used in
one place only; no module keeps state that connections share."""

from __future__ import annotations

import ast
import re
import subprocess
import sys

from tests.support.processes import ROOT

PURE_MODULES = [
    "signaling.core",
    "signaling.relay",
    "signaling.session",
    "signaling.membership",
    "signaling.news",
    "signaling.actions",
    "signaling.counters",
    "signaling.handshake",
    "signaling.outbox",
    "signaling.redis_clock",
    "signaling.redis_wire",
    "signaling.liveness",
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


def _sources() -> list[tuple[str, str]]:
    return [
        (str(path.relative_to(ROOT)), path.read_text())
        for path in sorted((ROOT / "signaling").rglob("*.py"))
    ]


def test_the_frame_parser_imports_nothing_but_pure_helpers() -> None:
    """frames.py is pure too; its one outside import is aiohttp's compiled mask function (which
    loads the aiohttp package, so it cannot be in the list above)."""
    tree = ast.parse((ROOT / "signaling/fastpath/frames.py").read_text())
    imported = {
        node.module if isinstance(node, ast.ImportFrom) else alias.name
        for node in ast.walk(tree)
        if isinstance(node, ast.Import | ast.ImportFrom)
        for alias in node.names
    }
    assert imported == {
        "__future__",
        "codecs",
        "struct",
        "typing",
        "aiohttp._websocket.mask",
        "signaling.transport",
    }


def test_aiohttp_internals_are_used_only_by_the_fast_path() -> None:
    """A private aiohttp module (``aiohttp._...``) may be imported in signaling/fastpath/ only,
    where a test pins each use (tests/signaling/test_frames.py)."""
    users = [name for name, text in _sources() if "aiohttp._" in text]
    assert users == ["signaling/fastpath/frames.py"]


def test_no_module_keeps_mutable_state_shared_by_connections() -> None:
    """Module-level names are constants: no lists, dicts or sets that connections fill."""
    pattern = re.compile(r"^_?[a-z][a-z_0-9]*(: [^=]+)? = (\[|\{|set\(|dict\(|list\()", re.M)
    offenders = [
        f"{name}: {match.group(0)}" for name, text in _sources() for match in pattern.finditer(text)
    ]
    assert offenders == []


def test_module_level_objects_keep_nothing_clients_send() -> None:
    """The one module-level object a connection writes through, the event log, holds no mapping
    that clients fill (sprint ids as the signal lines write them are kept per server)."""
    code = (
        "from signaling import logs\n"
        "logs.events.level = 20\n"
        "sprints = logs.SprintTexts()\n"
        "logs.log_signal('sprint 7', 'Pa1', 'Pb2', 'offer', 10, '', sprints)\n"
        "print(sorted(k for k, v in vars(logs.events).items() if isinstance(v, dict | set)))\n"
        "print(list(sprints.texts))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert done.stdout.splitlines() == ["[]", "['sprint 7']"]
