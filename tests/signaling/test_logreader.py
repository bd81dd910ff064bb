"""Reading log lines back: several logs merged by time, fields of the wrong shape read as absent."""

from __future__ import annotations

import json

import pytest

from signaling.logreader import merged, parse_line
from tests.signaling.log_lines import human, json_log


def test_logs_of_two_instances_merge_by_time_whatever_their_order_and_format() -> None:
    one = [human.join(0, "AAA", "Ann"), human.link(2, "AAA", "SSS", "relayed", path="signaling")]
    two = [json_log.join(1, "SSS", "Sam"), json_log.leave(3, "SSS", "Sam")]
    forward = [(entry.event, entry.time) for _, entry in merged([one, two])]
    backward = [(entry.event, entry.time) for _, entry in merged([two, one])]
    assert forward == backward
    assert [event for event, _ in forward] == ["join", "join", "link", "leave"]
    assert [source for source, _ in merged([one, two])] == [0, 1, 0, 1]


def test_lines_of_the_same_moment_merge_in_one_order_whatever_the_order_of_the_logs() -> None:
    one = [human.link(1, "AAA", "SSS", "open", path="host/host")]
    two = [human.link(1, "SSS", "AAA", "relayed", path="signaling")]
    outcomes = [[e.text("outcome") for _, e in merged(logs)] for logs in ([one, two], [two, one])]
    assert outcomes[0] == outcomes[1]


def test_a_json_stamp_without_milliseconds_is_read_and_one_of_another_shape_is_not() -> None:
    entry = parse_line('{"ts":"2026-12-06T10:00:01Z","event":"join","peer":"P"}')
    assert entry is not None
    assert entry.time.isoformat() == "2026-12-06T10:00:01+00:00"
    for stamp in ("5", '"yesterday"', '"2026-12-06 10:00:01"', '"2026-13-06T10:00:01Z"'):
        assert parse_line(f'{{"ts":{stamp},"event":"join"}}') is None
    assert parse_line("2026-13-06 10:00:01.000 INFO  join peer=P") is None


@pytest.mark.parametrize("value", [["7"], {"a": 1}, None, True, 7.5])
def test_a_text_field_of_another_shape_reads_as_absent(value: object) -> None:
    line = json.dumps({"ts": "2026-12-06T10:00:01.000Z", "event": "join", "sprint": value})
    entry = parse_line(line)
    assert entry is not None
    assert entry.text("sprint") is None


@pytest.mark.parametrize("value", ["NaN", "inf", "-5", "x", float("inf"), [1], True])
def test_a_number_that_is_not_a_finite_duration_reads_as_absent(value: object) -> None:
    line = json.dumps({"ts": "2026-12-06T10:00:01.000Z", "event": "link", "took_ms": value})
    entry = parse_line(line)
    assert entry is not None
    assert entry.number("took_ms") is None


def test_numbers_and_numeric_ids_read_as_they_were_written() -> None:
    line = json.dumps({"ts": "2026-12-06T10:00:01.000Z", "event": "link", "took_ms": 48})
    entry = parse_line(line.replace("}", ',"sprint":7,"rtt_ms":"1.5"}'))
    assert entry is not None
    assert (entry.number("took_ms"), entry.number("rtt_ms"), entry.text("sprint")) == (48, 1.5, "7")
