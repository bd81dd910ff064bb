"""What the bot prints in text mode: text that peers and the board chose is escaped, so it can
neither drive the terminal nor forge a line nor stop the print (peer_client.printable)."""

from __future__ import annotations

import io
import re

import pytest

from peer_client.bot import EventPrinter
from peer_client.printable import printable
from peer_client.session import BoardSession
from peer_client.signaling import Ticket
from tests.peer_client.conftest import sample_task

# What a terminal would act on: C0, DEL, C1, bidi controls, line separators, lone surrogates.
ACTIVE = re.compile(
    "[\x00-\x09\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069"
    "\ud800-\udfff]"
)
FORGED_LINE = "\x1b[2J\x1b[H\x1b]0;owned\x07Evil\n12:00:00 + Eve Admin is here (9 viewing)"


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("\x1b[31mred", "\\x1b[31mred"),
        ("two\nlines\r", "two\\x0alines\\x0d"),
        ("del\x7f", "del\\x7f"),
        ("csi\x9b2J next\x85line", "csi\\x9b2J next\\x85line"),
        ("\u202etob", "\\u202etob"),
        ("a\u2066b\u2069\u200f\u061c", "a\\u2066b\\u2069\\u200f\\u061c"),
        ("lone \ud800 and \udcff", "lone \\ud800 and \\udcff"),
        ("para\u2029graph", "para\\u2029graph"),
    ],
)
def test_what_could_act_on_a_terminal_is_written_as_an_escape(text: str, shown: str) -> None:
    assert printable(text) == shown


def test_ordinary_text_is_left_alone() -> None:
    text = "Zoë Ångström 山田 🤖 «ok» \u00a0 tab-free"
    assert printable(text) == text


def printer_on_a_terminal(tasks: list[dict[str, object]]) -> tuple[EventPrinter, io.BytesIO]:
    """A text-mode printer writing UTF-8 strictly, as a terminal's stdout does."""
    session = BoardSession(1, Ticket("ws://127.0.0.1:1/ws", "t"), tasks=tasks)
    raw = io.BytesIO()
    out = io.TextIOWrapper(raw, encoding="utf-8", errors="strict", write_through=True)
    return EventPrinter(session, as_json=False, out=out), raw


def test_a_task_name_from_the_board_cannot_forge_a_line_or_drive_the_terminal() -> None:
    printer, raw = printer_on_a_terminal([sample_task(1)])
    renamed = {**sample_task(1), "name": FORGED_LINE, "version": 2}
    printer.session.source.keep(renamed, "board")  # the board's event for the renamed task
    text = raw.getvalue().decode("utf-8")
    (line,) = text.splitlines()
    assert "\\x1b[2J" in line
    assert "Evil\\x0a12:00:00 + Eve" in line
    assert not ACTIVE.search(text)


def test_peer_chosen_text_with_a_lone_surrogate_prints_escaped() -> None:
    printer, raw = printer_on_a_terminal([sample_task(1)])
    for agent in ("\ud800", "\udcff", "web\x9b2J\x9b31mROOT", "a\x85b", "\u202etob"):
        printer.line("hello", f"  Mallory is on a {agent} client", agent=agent)
    text = raw.getvalue().decode("utf-8")
    assert len(text.splitlines()) == 5
    assert "\\ud800" in text
    assert "\\u202etob" in text
    assert not ACTIVE.search(text)


def test_our_own_saved_move_is_one_line_in_text_and_still_an_event_in_json() -> None:
    printer, raw = printer_on_a_terminal([sample_task(1)])
    printer.session.source.keep({**sample_task(1), "version": 2}, "self")  # our move's answer
    assert raw.getvalue() == b""  # the action's own "moved" line says it
    printer.session.source.keep({**sample_task(1), "version": 3}, "board")
    assert "via the board" in raw.getvalue().decode()
    out = io.StringIO()
    EventPrinter(printer.session, as_json=True, out=out)
    printer.session.source.keep({**sample_task(1), "version": 4}, "self")
    assert '"source":"self"' in out.getvalue()
