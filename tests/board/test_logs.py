"""The board's log lines: signaling's two formats, and a 500's traceback on gunicorn's stderr.

The board does not import signaling (they share only the secret); this test imports both to hold
the board's lines to signaling's, field for field.
"""

from __future__ import annotations

import json
import logging
import subprocess
import sys
from pathlib import Path

import pytest

from board.logs import LineFormatter, format_line
from signaling.logs import EventLog
from tests.board.production import Http, production_environment, start_board
from tests.support.processes import ROOT

WHEN = 1_795_000_000.123  # a fixed instant, so that both stamp the same millisecond
FIELDS = {
    "logger": "board.hooks",
    "plain": "7",
    "spaced": "Ann Lee",
    "quoted": 'say "hi"',
    "lines": "one\ntwo",
    "empty": "",
    "count": 3,
    "ratio": 0.5,
    "flag": True,
    "nothing": None,
    "mapping": {"a": [1, 2]},
    "hostile": "Ann\r\n2026-01-01 INFO  fake=1\x1b[2J\u202e",
    "long": "x" * 1000,
    "exception": "Traceback (most recent call last):\n  File ...\nValueError: the cause",
}


@pytest.mark.parametrize("as_json", [False, True])
@pytest.mark.parametrize("level", [logging.DEBUG, logging.INFO, logging.WARNING, logging.ERROR])
def test_lines_are_signalings_lines(as_json: bool, level: int) -> None:
    theirs = EventLog()
    theirs.json = as_json
    expected = theirs.line("Internal Server Error: /api/x/", level, FIELDS, WHEN)
    assert format_line("Internal Server Error: /api/x/", level, FIELDS, WHEN, as_json=as_json) == (
        expected
    )


def test_a_record_with_an_exception_carries_its_traceback() -> None:
    try:
        raise ValueError("the cause")
    except ValueError:
        exc_info = sys.exc_info()
    record = logging.LogRecord(
        "board.hooks", logging.ERROR, __file__, 1, "hook %s", ("x",), exc_info
    )
    line = json.loads(LineFormatter(json=True).format(record))
    assert line["level"] == "error"
    assert line["event"] == "hook x"
    assert line["logger"] == "board.hooks"
    assert line["exception"].startswith("Traceback (most recent call last):")
    assert line["exception"].endswith("ValueError: the cause")
    human = LineFormatter().format(record)
    assert "\n" not in human  # one line per record
    assert ' ERROR hook x logger=board.hooks exception="Traceback (most recent call last):' in human


@pytest.mark.parametrize("log_format", ["human", "json"])
def test_a_500_under_gunicorn_logs_its_traceback_to_stderr(tmp_path: Path, log_format: str) -> None:
    """A real fault: the database was never migrated, so the token request fails with a 500."""
    env = production_environment(tmp_path / "never-migrated.sqlite3", LOG_FORMAT=log_format)
    board = start_board(env)
    try:
        answer = Http(board.port).request(
            "POST", "/api/token/", body={"username": "ada", "password": "x"}
        )
        assert answer.status == 500
        assert b"Traceback" not in answer.body  # DEBUG is off: nothing leaks to the client
    finally:
        board.stop()
    lines = [line for line in board.output.splitlines() if "Internal Server Error" in line]
    assert len(lines) == 1, board.output
    if log_format == "json":
        entry = json.loads(lines[0])
        assert entry["level"] == "error"
        assert entry["event"] == "Internal Server Error: /api/token/"
        assert entry["logger"] == "django.request"
        traceback = entry["exception"]
    else:
        assert " ERROR Internal Server Error: /api/token/ logger=django.request " in lines[0]
        traceback = json.loads(lines[0].partition(" exception=")[2])
    assert traceback.startswith("Traceback (most recent call last):")
    assert "OperationalError: no such table" in traceback


def test_a_bad_log_format_is_refused_at_start(tmp_path: Path) -> None:
    env = production_environment(tmp_path / "db.sqlite3", LOG_FORMAT="xml")
    result = subprocess.run(
        [sys.executable, "-c", "import django; django.setup()"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0
    assert "LOG_FORMAT='xml' is not one of human, json" in result.stderr
