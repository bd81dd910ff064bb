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
