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


def test_signal_line_is_silent_above_info(captured: io.StringIO) -> None:
    logs.events.level = logging.WARNING
    logs.log_signal("7", "Pa1", "Pb2", "offer", 10, "")
    logs.events.flush()
    assert captured.getvalue() == ""


async def test_signal_lines_of_one_loop_turn_share_a_timestamp(captured: io.StringIO) -> None:
    """The stamp is taken once per event-loop turn (the turn's lines are written together) and
    taken afresh in the next turn."""
    logs.log_signal("7", "Pa1", "Pb2", "candidate", 10, "host")
    time.sleep(0.01)  # noqa: ASYNC251 -- on purpose: the same turn, 10 ms later
    logs.log_signal("7", "Pa1", "Pb2", "candidate", 10, "host")
    await asyncio.sleep(0.01)  # the turn ends (lines written); the next one starts later
    logs.log_signal("7", "Pa1", "Pb2", "candidate", 10, "host")
    logs.events.flush()
    stamps = [line[:23] for line in captured.getvalue().splitlines()]
    assert len(stamps) == 3
    assert stamps[0] == stamps[1]
    assert stamps[2] > stamps[1]


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
