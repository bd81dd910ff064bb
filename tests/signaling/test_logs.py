"""The event log: the hand-built ``signal`` line must read exactly like the generic one."""

from __future__ import annotations

import asyncio
import io
import json
import logging
import time
from collections.abc import Iterator

import pytest

from signaling import logs


@pytest.fixture
def captured() -> Iterator[io.StringIO]:
    saved = (logs.events.stream, logs.events.level, logs.events.json)
    stream = io.StringIO()
    logs.events.stream = stream
    logs.events.level = logging.INFO
    yield stream
    logs.events.flush()
    logs.events.stream, logs.events.level, logs.events.json = saved


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
    captured: io.StringIO, sprint: str, candidates: str | None, as_json: bool
) -> None:
    logs.events.json = as_json
    fast, generic = _both(
        captured,
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
    captured: io.StringIO, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Sprint ids are remembered as written (quoted or not); a repeat and a sprint past the bound
    read the same as the first."""
    monkeypatch.setattr(logs, "_SPRINT_TEXTS", {})
    monkeypatch.setattr(logs, "MAX_REMEMBERED_SPRINTS", 1)
    for sprint in ("sprint one", "sprint one", "sprint two", "7"):
        logs.log_signal(sprint, "Pa1", "Pb2", "offer", 10, "")
    logs.events.flush()
    fields = [line.split(" signal ", 1)[1] for line in captured.getvalue().splitlines()]
    assert [f.split(" from=")[0] for f in fields] == [
        'sprint="sprint one"',
        'sprint="sprint one"',
        'sprint="sprint two"',
        "sprint=7",
    ]
    assert logs._SPRINT_TEXTS == {"sprint one": '"sprint one"'}


def test_signal_line_is_silent_above_info(captured: io.StringIO) -> None:
    logs.events.level = logging.WARNING
    logs.log_signal("7", "Pa1", "Pb2", "offer", 10, "")
    logs.events.flush()
    assert captured.getvalue() == ""


async def test_each_signal_line_carries_the_millisecond_it_was_logged(
    captured: io.StringIO,
) -> None:
    """Lines of one event-loop turn logged 10 ms apart have their own stamps, in order, each
    within the time it was logged (the clock's stamp is reused only within a millisecond)."""
    before = time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(time.time() - 1))
    logs.log_signal("7", "Pa1", "Pb2", "candidate", 10, "host")
    time.sleep(0.01)  # noqa: ASYNC251 -- on purpose: the same turn, 10 ms later
    logs.log_signal("7", "Pa1", "Pb2", "candidate", 10, "host")
    logs.events.flush()
    after = time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(time.time() + 1))
    stamps = [line[:23] for line in captured.getvalue().splitlines()]
    assert len(stamps) == 2
    assert before < stamps[0] < stamps[1] < after


async def test_a_line_waits_for_the_timed_write_without_a_callback_of_its_own(
    captured: io.StringIO,
) -> None:
    """While a write is timed, logging schedules nothing more (at low rates every relayed message
    is a loop turn of its own, and one callback each was measurable); the timer writes the line."""
    await asyncio.sleep(logs.WRITE_INTERVAL_SECONDS)
    logs.log_signal("7", "Pa1", "Pb2", "candidate", 10, "host")
    await asyncio.sleep(0)  # written at once: the log was quiet
    logs.log_signal("7", "Pa1", "Pb2", "candidate", 11, "host")
    await asyncio.sleep(0)  # held, and a write timed
    assert logs.events._write_timer is not None
    logs.log_signal("7", "Pa1", "Pb2", "candidate", 12, "host")
    assert not logs.events._flush_scheduled  # no end-of-turn callback for this line
    await asyncio.sleep(1.0)  # 20 intervals: ample even on a loaded machine
    assert "bytes=11" in captured.getvalue()
    assert "bytes=12" in captured.getvalue()


async def test_a_flood_of_lines_is_written_at_the_end_of_its_turn_even_while_a_write_is_timed(
    captured: io.StringIO,
) -> None:
    await asyncio.sleep(logs.WRITE_INTERVAL_SECONDS)
    logs.log_event("first")
    await asyncio.sleep(0)
    logs.log_event("second")
    await asyncio.sleep(0)  # held, and a write timed
    assert logs.events._write_timer is not None
    for n in range(logs.MAX_PENDING_LINES):
        logs.log_signal("7", "Pa1", "Pb2", "candidate", n, "host")
    await asyncio.sleep(0)  # the end of the turn: too many lines to wait for the timer
    assert captured.getvalue().count(" INFO  signal ") == logs.MAX_PENDING_LINES


async def test_a_line_after_a_quiet_spell_is_written_at_the_end_of_its_turn(
    captured: io.StringIO,
) -> None:
    await asyncio.sleep(logs.WRITE_INTERVAL_SECONDS)  # quiet
    logs.log_event("join", peer="Pa1")
    assert captured.getvalue() == ""  # not during the turn...
    await asyncio.sleep(0)
    assert "join peer=Pa1" in captured.getvalue()  # ...but right after it


async def test_a_busy_log_is_written_within_the_interval_not_every_turn(
    captured: io.StringIO,
) -> None:
    await asyncio.sleep(logs.WRITE_INTERVAL_SECONDS)
    logs.log_signal("7", "Pa1", "Pb2", "candidate", 10, "host")
    await asyncio.sleep(0)  # written: the log was quiet
    logs.log_signal("7", "Pa1", "Pb2", "candidate", 11, "host")
    await asyncio.sleep(0)
    await asyncio.sleep(0)
    assert "bytes=11" not in captured.getvalue()  # held: a write happened just now
    await asyncio.sleep(1.0)  # 20 intervals: ample even on a loaded machine
    assert "bytes=11" in captured.getvalue()


async def test_a_library_record_comes_after_the_events_before_it(
    captured: io.StringIO,
) -> None:
    saved = logging.getLogger().handlers[:]
    stream = logs.events.stream
    logs.configure_logging("human", False)
    logs.events.stream = captured
    try:
        handler = logging.getLogger().handlers[0]
        assert isinstance(handler, logging.StreamHandler)
        handler.setStream(captured)
        await asyncio.sleep(logs.WRITE_INTERVAL_SECONDS)
        logs.log_event("first")
        await asyncio.sleep(0)
        logs.log_event("second")  # pending: the log was just written
        logging.getLogger("aiohttp.server").error("third")
        lines = captured.getvalue().splitlines()
        assert [line.split()[3] for line in lines] == ["first", "second", "third"]
    finally:
        logging.getLogger().handlers[:] = saved
        logs.events.stream = stream
