"""How people look on the board (docs/protocol.md 2.5): a colour derived from the user id, so
every client shows the same one, and initials from the display name. No I/O.

``web/static/watercooler/presence.js`` is the page's twin; ``tests/protocol_fixtures/people/``
holds the cases both must agree on. Who is present is the session's business, not this module's.
This module must not import aiortc, aiohttp or asyncio.
"""

from __future__ import annotations

import re
from typing import Final


def fnv1a_32(data: bytes) -> int:
    """FNV-1a, 32 bits."""
    value = 0x811C9DC5
    for byte in data:
        value ^= byte
        value = (value * 0x01000193) & 0xFFFFFFFF
    return value


def colour_for(user_id: str) -> str:
    """The colour every client shows for ``user_id``: ``hsl(hue, 65%, 45%)``."""
    return f"hsl({fnv1a_32(user_id.encode()) % 360}, 65%, 45%)"


_WHITE_SPACE: Final = re.compile(
    "[\t\n\v\f\r \u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\ufeff]+"
)
"""What separates words in a name: the white space of JavaScript's ``\\s``, so the page and the
bot split a name alike (Python's own ``str.split`` also splits at U+0085 and U+001C-U+001F, and
not at U+FEFF)."""


def initials(name: str) -> str:
    """The first characters of the first two words of ``name``, upper-cased (Unicode's default
    mapping, no locale); ``"?"`` for a name without a word (docs/protocol.md 2.5)."""
    words = [word for word in _WHITE_SPACE.split(name) if word][:2]
    letters = "".join(word[0] for word in words)
    return letters.upper() if letters else "?"
