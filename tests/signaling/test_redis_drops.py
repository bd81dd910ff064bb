"""Messages from Redis that an instance dropped: each counted, the log told once per interval for
each source and cause, with a bounded, quoted excerpt. (test_cluster_malformed.py publishes them
on a real Redis to real instances.)"""

from __future__ import annotations

import io

from signaling import logs
from signaling.redis_drops import EXCERPT_BYTES, Drops, excerpt
from tests.support.signaling_log import events


def test_a_flood_of_one_cause_is_counted_whole_and_logged_once(event_log: io.StringIO) -> None:
    drops = Drops()
    for _ in range(500):
        drops.malformed("sprint-channel", "wc:sprint:7", "bad-from", b'{"op":"sync"}')
    drops.malformed("sprint-channel", "wc:sprint:7", "bad-op", b'{"op":[]}')
    drops.malformed("instance-channel", "wc:to:a1", "bad-from", b"x")
    assert drops.counts == {
        ("sprint-channel", "bad-from"): 500,
        ("sprint-channel", "bad-op"): 1,
        ("instance-channel", "bad-from"): 1,
    }
    logs.events.flush()
    lines = events(event_log.getvalue(), "broker-message-dropped")
    assert [(line["source"], line["cause"], line["dropped"]) for line in lines] == [
        ("sprint-channel", "bad-from", "1"),
        ("sprint-channel", "bad-op", "1"),
        ("instance-channel", "bad-from", "1"),
    ]
    assert lines[0]["excerpt"] == '{"op":"sync"}'
    assert lines[0]["channel"] == "wc:sprint:7"


def test_an_excerpt_is_bounded_and_shows_bytes_that_are_not_text() -> None:
    assert excerpt(b"ok \xff\xfe") == "ok \\xff\\xfe"
    assert excerpt("\ud800") == "\\ud800"  # a lone surrogate, as read from a directory
    long = b"a" * (EXCERPT_BYTES + 80)
    assert excerpt(long) == "a" * EXCERPT_BYTES + "...(+80 bytes)"


def test_a_dropped_line_never_breaks_the_log(event_log: io.StringIO) -> None:
    Drops().malformed("instance-channel", "wc:to:a1", "unknown-kind", b"\x1b[2J\nforged line\r")
    logs.events.flush()
    text = event_log.getvalue()
    assert text.count("\n") == 1
    assert "\x1b" not in text
    (line,) = events(text, "broker-message-dropped")
    assert line["excerpt"] == "\x1b[2J\nforged line\r"  # as sent, once unquoted


def test_a_failure_says_where_it_was_raised_without_a_traceback(event_log: io.StringIO) -> None:
    drops = Drops()
    try:
        {}["missing"]
    except KeyError as exc:
        drops.failed("sprint-channel", "wc:sprint:7", exc, b'{"op":"join"}')
    assert drops.counts == {("sprint-channel", "handler-error"): 1}
    logs.events.flush()
    (line,) = events(event_log.getvalue(), "broker-message-failed")
    assert line["error"] == "KeyError: 'missing'"
    assert line["where"].startswith("test_redis_drops.py:")
    assert line["where"].endswith(" test_a_failure_says_where_it_was_raised_without_a_traceback")
    assert "Traceback" not in event_log.getvalue()
