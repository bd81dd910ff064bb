"""Text from a log, made safe to print: what the log reader shows never drives the terminal.

A log holds what clients sent (names, reasons, peer ids), written escaped by ``signaling.logs``
and unescaped again by ``signaling.logreader``. Printed raw, a display name with ``ESC[2J`` would
clear the operator's screen, a line break would forge a line of the report, a bidi override would
reorder it, and a lone surrogate cannot be encoded at all. :func:`shown` escapes exactly those
characters, as ``\\xNN`` or ``\\uNNNN``, and leaves the rest (accents, emoji) as they are. No I/O.
"""

from __future__ import annotations

import re
from typing import Final

# C0 controls, DEL and C1 controls, the line and paragraph separators, the bidi embeddings,
# overrides and isolates, the bidi marks, and surrogates (never valid on their own).
_UNSAFE: Final = re.compile(
    "[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069\ud800-\udfff]"
)


def _escape(match: re.Match[str]) -> str:
    code = ord(match[0])
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def shown(text: str) -> str:
    """``text`` with every character that could act on a terminal escaped."""
    if _UNSAFE.search(text) is None:
        return text
    return _UNSAFE.sub(_escape, text)
