"""The instructions workload (``python -m bench run --workloads instructions``): reading
callgrind's dumps, and the report's reading of its results.

Nothing here runs valgrind (``make bench-instructions`` does, and ``make test`` must not need it).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from bench.instructions import CallgrindError, per_message, read_total
from bench.report import Report, instructions_section


def test_a_dump_without_totals_is_refused() -> None:
    assert read_total(b"version: 1\ncmd: python\nsummary: 1234\n") == 1234
    assert read_total(b"events: Ir\ntotals: 987654\n") == 987654
    with pytest.raises(CallgrindError, match="no totals line"):
        read_total(b"version: 1\nevents: Ir\n")


def test_no_per_message_figure_when_the_higher_rate_delivered_no_more() -> None:
    low = {"received": 100.0, "instructions": 5e6}
    assert per_message(low, {"received": 300.0, "instructions": 15e6}) == 50_000
    with pytest.raises(CallgrindError, match="delivered no more messages"):
        per_message(low, {"received": 100.0, "instructions": 6e6})


def _run(per_msg: int, whole: int, complete: bool = True) -> dict[str, Any]:
    return {
        "complete": complete,
        "instructions_per_message": per_msg,
        "whole_step_per_message": whole,
    }


PLAN = {"rates": [100.0, 250.0], "step_seconds": 10.0, "rooms": 10, "warm_up_seconds": 20.0}


def _results(servers: dict[str, list[dict[str, Any]]], **data: Any) -> dict[str, Any]:
    """Results of the instructions workload: one job per server with these runs (or an error)."""
    jobs = {s: runs if "error" in runs[0] else [{"runs": runs}] for s, runs in servers.items()}
    plan = {"instructions": {**PLAN, "runs": 3}}
    return data | {
        "plan": plan,
        "machine": {"valgrind": "3.19"},
        "workloads": {"instructions": jobs},
    }


def _section(servers: dict[str, list[dict[str, Any]]], **data: Any) -> tuple[str, list[list[str]]]:
    """The section's text and its summary rows for these runs, under a fixed plan."""
    report = Report({"workloads": {}}, plots=Path("unused"))
    return instructions_section(report, _results(servers, **data)) or "", report.rows


def test_the_report_compares_medians_of_complete_runs_with_the_best_peer() -> None:
    text, summary = _section(
        {
            "ours": [_run(70_000, 90_000), _run(72_000, 91_000), _run(1, 1, complete=False)],
            "y-webrtc": [_run(80_000, 100_000), _run(78_000, 99_000)],
            "peerjs": [{"error": "TimeoutError: peerjs did not answer"}],
        }
    )
    assert "| ours | 71,000 | 70,000, 72,000, 1 (messages lost) | 90,500 |" in text
    assert "| peerjs | n/a | TimeoutError: peerjs did not answer | n/a |" in text
    (row,) = summary
    assert row[1:] == ["71,000", "79,000", "0.90", "≤ 1.0", "yes"]


def test_when_ours_costs_more_the_summary_says_by_how_much() -> None:
    _, summary = _section(
        {
            "ours": [_run(70_000, 75_000), _run(72_000, 77_000)],
            "y-webrtc": [_run(60_000, 80_000), _run(64_000, 80_000)],
            "peerjs": [_run(69_000, 90_000), _run(71_000, 90_000)],
        }
    )
    assert summary[0][-1] == "no (15% over)"


def test_ours_before_is_counted_beside_the_others_and_named() -> None:
    text, _ = _section(
        {
            "ours": [_run(60_000, 66_000)],
            "ours-before": [_run(72_000, 78_000)],
            "y-webrtc": [_run(66_000, 76_000)],
        },
        baseline="4e776d0",
    )
    assert "(ours-before: `4e776d0`)" in " ".join(text.split())
    assert text.index("| ours | 60,000 |") < text.index("| ours-before | 72,000 |")


def test_the_summary_sets_ours_before_beside_ours_only_when_it_is_the_same_revision() -> None:
    runs = {"ours": [_run(60_000, 66_000)], "ours-before": [_run(72_000, 78_000)]}
    for counted, column in (("4e776d0", ["72,000", "0.83"]), ("1234567", ["n/a", "n/a"])):
        report = Report({"workloads": {}}, plots=Path("unused"), baseline="4e776d0")
        instructions_section(report, _results(runs, baseline=counted))
        assert report.rows[0][6:] == column


def test_no_section_without_the_workload() -> None:
    report = Report({"workloads": {}}, plots=Path("unused"))
    assert instructions_section(report, {"workloads": {"relay": {}}}) is None
    assert report.rows == []
