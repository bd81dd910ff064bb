"""The rules of a frame's text (docs/protocol.md 2.7, and 2.6 for a relayed message). No I/O.

Checked on the text itself before it is parsed: its size in UTF-8, how deep it nests and how long
its number literals are. On the text, so that no parser's own limits decide (Python's recursion
limit and its 4,300-digit limit for integers would make ``json.loads`` fail where a browser reads
the frame), and so that both clients reach the same verdict on the same text. A relayed message is
judged on the signaling frame that carried it, which both clients receive byte for byte, never on
a re-encoding of it (Python and JavaScript write numbers differently: ``1e-06`` and ``0.000001``).
``web/static/watercooler/frames.js`` keeps the same rules.

This module must not import aiortc, aiohttp or asyncio.
"""

from __future__ import annotations

import re
from typing import Final

MAX_MESSAGE_BYTES: Final = 16 * 1024
"""Largest frame either side sends or accepts, in UTF-8 bytes."""
MAX_DEPTH: Final = 32
"""How deep a message may nest: the message object is level 1, each object or array in it one
more."""
MAX_NUMBER_CHARS: Final = 40
"""The longest run of number characters (0-9 + - . e E) outside strings."""
RELAY_ENVELOPE_BYTES: Final = 64
"""What the signaling frame around a relayed message may add to it:
``{"type":"relay","from":ID,"data":...}``."""

# A string (up to its closing quote, or to the end of a text that never closes it), an opening or
# closing bracket, or a run of number characters. Everything else is left alone.
_TOKENS: Final = re.compile(r'"(?:[^"\\]|\\[\s\S])*(?:"|\\?\Z)|[\[{]|[\]}]|[-+.eE0-9]+')


def utf8_length(text: str) -> int:
    return len(text.encode("utf-8", "surrogatepass"))


def shape_fault(text: str, levels: int = MAX_DEPTH) -> str | None:
    """Why ``text`` breaks the shape rule (too deep, too long a number), or None if it keeps it.
    ``levels`` is how deep it may nest (a relay's envelope adds one)."""
    depth = 0
    for match in _TOKENS.finditer(text):
        token = match.group()
        first = token[0]
        if first == '"':
            continue
        if first in "[{":
            depth += 1
            if depth > levels:
                return f"nested deeper than {MAX_DEPTH} levels"
        elif first in "]}":
            depth -= 1
        elif len(token) > MAX_NUMBER_CHARS:
            return f"a number longer than {MAX_NUMBER_CHARS} characters"
    return None


def frame_fault(text: str) -> str | None:
    """Why a data-channel frame's text breaks the rules of 2.7 (before parsing), or None."""
    if len(text) > MAX_MESSAGE_BYTES or utf8_length(text) > MAX_MESSAGE_BYTES:
        return f"larger than {MAX_MESSAGE_BYTES} bytes"
    return shape_fault(text)


def relay_frame_fault(text: str) -> str | None:
    """Why the signaling frame that carried a relayed message breaks the rules of 2.6 (before
    parsing), or None: at most 16 KiB and the envelope's allowance, one level deeper for the
    envelope."""
    limit = MAX_MESSAGE_BYTES + RELAY_ENVELOPE_BYTES
    if len(text) > limit or utf8_length(text) > limit:
        return f"relayed message larger than {MAX_MESSAGE_BYTES} bytes (its frame over {limit})"
    return shape_fault(text, MAX_DEPTH + 1)
