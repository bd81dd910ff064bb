"""Text from peers and the board, made safe to print on a terminal. No I/O.

The bot's text output shows names, agents and task names that other people chose: a person's
display name, a peer's ``hello.agent``, a task's name on the board. Printed raw, an ESC sequence
would drive the terminal (clear it, retitle it, recolour what follows), a newline would forge a
line of its own, a C1 control (U+009B is an 8-bit CSI) or a bidi control (U+202E reverses what
follows) would do the same less visibly, and a lone surrogate cannot be encoded at all (the print
fails). :func:`printable` writes each of them as an escape instead (``\\x1b``, ``\\u202e``), so
the text shows what was sent and does nothing else.

This module must not import aiortc, aiohttp or asyncio.
"""

from __future__ import annotations

import re
from typing import Final

_UNPRINTABLE: Final = re.compile(
    "[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069\ud800-\udfff]"
)
"""C0 controls, DEL, C1 controls, the bidi controls (Unicode's Bidi_Control), the line and
paragraph separators, and surrogates (in a ``str`` a surrogate is always a lone one)."""


def _escape(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def printable(text: str) -> str:
    """``text`` with every character that could act on a terminal written as an escape."""
    return _UNPRINTABLE.sub(_escape, text)
