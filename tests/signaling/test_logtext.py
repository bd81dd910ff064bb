"""What the log reader prints of a log's text cannot act on the terminal."""

from __future__ import annotations

import pytest

from signaling.logtext import shown


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Ann Lee", "Ann Lee"),
        ("é, 😀 and ß", "é, 😀 and ß"),
        ("Sam\x1b[2J", "Sam\\x1b[2J"),
        ("two\nlines\r", "two\\x0alines\\x0d"),
        ("nul\x00tab\tdel\x7f", "nul\\x00tab\\x09del\\x7f"),
        ("c1\x85\x9b", "c1\\x85\\x9b"),
        ("\u202eevil\u202a\u202c", "\\u202eevil\\u202a\\u202c"),
        ("\u2066isolate\u2069", "\\u2066isolate\\u2069"),
        ("line\u2028sep", "line\\u2028sep"),
        ("Sam\ud800", "Sam\\ud800"),
    ],
)
def test_control_bidi_and_surrogate_characters_are_escaped(text: str, expected: str) -> None:
    assert shown(text) == expected
    shown(text).encode("utf-8")  # always printable as UTF-8
