"""The event log: one line per event, whatever clients send; the fast signal line reads like the
generic one; lines are written in order, in few writes."""

from __future__ import annotations

import asyncio
import io
import json
import logging
import time

import pytest

from signaling import logs


def _both(stream: io.StringIO, **fields: str | int | None) -> tuple[str, str]:
    """One line from log_signal and one from log_event for the same fields, timestamps cut."""
    logs.log_signal(
        str(fields["sprint"]),
        str(fields["from"]),
        str(fields["to"]),
        str(fields["kind"]),
        int(fields["bytes"] or 0),
        str(fields["candidates"] or ""),
    )
    logs.log_event("signal", **fields)  # type: ignore[arg-type]
    logs.events.flush()
    fast, generic = stream.getvalue().splitlines()[-2:]
    return fast, generic


@pytest.mark.parametrize(
    ("sprint", "candidates"),
    [
        ("7", "host"),
        ("7", "relay"),
        ("7", None),
        ("7", "unusual"),
        ("sprint with spaces", "host,srflx"),
        ('quote"d', 'ty"pe'),
        ("a=b", "x=y"),
    ],
)
@pytest.mark.parametrize("as_json", [False, True])
def test_signal_line_matches_the_generic_event(
    event_log: io.StringIO, sprint: str, candidates: str | None, as_json: bool
) -> None:
    logs.events.json = as_json
    fast, generic = _both(
        event_log,
        sprint=sprint,
        **{"from": "Pa1"},
        to="Pb2",
        kind="candidate",
        bytes=212,
        candidates=candidates,
    )
    if as_json:
        a, b = json.loads(fast), json.loads(generic)
        a.pop("ts"), b.pop("ts")
        assert a == b
        assert a["sprint"] == sprint
    else:
        assert fast.split(" ", 2)[2] == generic.split(" ", 2)[2]
        assert " INFO  signal sprint=" in fast


def test_a_sprint_is_quoted_in_every_line_even_past_the_remembered_ones(
    event_log: io.StringIO,
) -> None:
    """Sprint ids are remembered as written (quoted or not); a repeat and a sprint past the bound
    read the same as the first."""
    sprints = logs.SprintTexts(limit=1)
    for sprint in ("sprint one", "sprint one", "sprint two", "7"):
        logs.log_signal(sprint, "Pa1", "Pb2", "offer", 10, "", sprints)
    assert list(sprints.texts) == ["sprint one"]
    logs.events.flush()
    fields = [line.split(" signal ", 1)[1] for line in event_log.getvalue().splitlines()]
    assert [f.split(" from=")[0] for f in fields] == [
        'sprint="sprint one"',
        'sprint="sprint one"',
        'sprint="sprint two"',
        "sprint=7",
    ]


def test_signal_line_is_silent_above_info(event_log: io.StringIO) -> None:
    logs.events.level = logging.WARNING
    logs.log_signal("7", "Pa1", "Pb2", "offer", 10, "")
    logs.events.flush()
    assert event_log.getvalue() == ""


async def test_each_signal_line_carries_the_millisecond_it_was_logged(
    event_log: io.StringIO, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Lines of one event-loop turn have their own stamps: the clock's stamp is reused only
    within its millisecond, also across a second (and a year)."""
    times = iter([1_767_225_599.9994, 1_767_225_599.9996, 1_767_225_600.0004, 1_767_225_600.0012])
    monkeypatch.setattr(logs.events, "clock", logs.Clock(lambda: next(times)))
    for _ in range(4):
        logs.log_signal("7", "Pa1", "Pb2", "candidate", 10, "host")
    logs.events.flush()
    assert [line[:23] for line in event_log.getvalue().splitlines()] == [
        "2025-12-31 23:59:59.999",
        "2025-12-31 23:59:59.999",
        "2026-01-01 00:00:00.000",
        "2026-01-01 00:00:00.001",
    ]


def test_the_clock_tells_the_time_in_utc() -> None:
    before = time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(time.time() - 1))
    stamp = logs.Clock().human()
    after = time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(time.time() + 1))
    assert before < stamp < after


async def written(stream: io.StringIO, text: str, timeout: float = 5.0) -> str:
    """Until ``text`` is in the log (polled, bounded): lines are written within a short delay."""
    deadline = time.monotonic() + timeout
    while text not in stream.getvalue():
        assert time.monotonic() < deadline, f"{text!r} never written"
        await asyncio.sleep(0.01)
    return stream.getvalue()


async def test_every_line_is_written_once_and_in_order_whatever_the_pace(
    event_log: io.StringIO,
) -> None:
    for n in range(5):
        logs.log_signal("7", "Pa1", "Pb2", "candidate", n, "host")
        if n % 2:
            await asyncio.sleep(0)
    logs.log_event("last", n=99)
    text = await written(event_log, "last n=99")
    assert [line.split("bytes=")[1] for line in text.splitlines()[:-1]] == [
        f"{n} candidates=host" for n in range(5)
    ]


async def test_a_flood_of_lines_is_written_at_the_end_of_its_turn(
    event_log: io.StringIO, monkeypatch: pytest.MonkeyPatch
) -> None:
    """However recent the last write, a turn that leaves MAX_PENDING_LINES lines waiting writes
    them at its end (the write interval here is an hour: only the flood rule writes them)."""
    monkeypatch.setattr(logs, "WRITE_INTERVAL_SECONDS", 3600.0)
    logs.events.flush()  # a write just now
    for n in range(logs.MAX_PENDING_LINES):
        logs.log_signal("7", "Pa1", "Pb2", "candidate", n, "host")
    await asyncio.sleep(0)  # one turn: too many lines waiting to hold them any longer
    assert event_log.getvalue().count(" INFO  signal ") == logs.MAX_PENDING_LINES


async def test_a_line_is_written_after_the_turn_that_logged_it_not_during_it(
    event_log: io.StringIO,
) -> None:
    logs.log_event("join", peer="Pa1")
    assert event_log.getvalue() == ""  # a write per line would cost a system call each
    await written(event_log, "join peer=Pa1")


@pytest.mark.parametrize("as_json", [False, True])
@pytest.mark.parametrize(
    "hostile",
    [
        "Ann\nINFO  join peer=forged",
        "Ann\r\nx",
        "\x1b[31mred\x1b[0m",
        "bell\x07 and del\x7f and c1\x9b",
        "line\u2028sep and para\u2029sep",
        "bidi\u202eevil",
        'quote" and back\\slash',
    ],
)
def test_what_clients_send_stays_inside_its_field_on_one_line(
    event_log: io.StringIO, hostile: str, as_json: bool
) -> None:
    logs.events.json = as_json
    logs.log_event("join", name=hostile, sprint=hostile, peer="Pa1")
    logs.log_signal(hostile, "Pa1", "Pb2", "candidate", 10, hostile)
    logs.events.flush()
    text = event_log.getvalue()
    lines = text.split("\n")
    assert len(lines) == 3  # two events, each on its own line, and the last newline
    assert lines[2] == ""
    assert all(char.isprintable() for line in lines for char in line)
    if as_json:
        assert json.loads(lines[0])["name"] == hostile
        assert json.loads(lines[1])["candidates"] == hostile
        assert text.isascii()
    else:
        assert " peer=Pa1" in lines[0]  # the field after the hostile ones is intact


def test_long_values_are_cut_and_say_by_how_much(event_log: io.StringIO) -> None:
    logs.log_event("bad-message", message="x" * 10_000)
    logs.events.flush()
    line = event_log.getvalue()
    assert len(line) < 500
    assert f"(+{10_000 - logs.MAX_FIELD_CHARS} chars)" in line


async def test_a_library_record_comes_after_the_events_before_it(
    event_log: io.StringIO,
) -> None:
    saved = logging.getLogger().handlers[:]
    stream = logs.events.stream
    logs.configure_logging("human", False)
    logs.events.stream = event_log
    try:
        handler = logging.getLogger().handlers[0]
        assert isinstance(handler, logging.StreamHandler)
        handler.setStream(event_log)
        logs.log_event("first")
        logs.log_event("second")  # both pending until the end of this turn
        logging.getLogger("aiohttp.server").error("third")
        lines = event_log.getvalue().splitlines()
        assert [line.split()[3] for line in lines] == ["first", "second", "third"]
    finally:
        logging.getLogger().handlers[:] = saved
        logs.events.stream = stream
