"""bench/report.py: the document a run's results make, section by section and whole.

The results here are written by hand in the shape ``python -m bench run`` writes, small enough to
read; what is checked is what a reader of docs/benchmarks.md relies on: every target row, the
comparison against the best peer (and against ours-before), and the history kept as it was.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from bench.report import Report, fan_out_section, live_section, relay_section, write_report
from tests.bench.live_results import results as live_results

SERVERS = ("ours", "y-webrtc", "peerjs")


def prose(text: str) -> str:
    """``text`` with its lines joined: the document's paragraphs are wrapped."""
    return " ".join(text.split())


def _idle(kib: float, levels: tuple[int, ...] = (1000, 20000)) -> dict[str, Any]:
    steps = [
        {
            "level": lv,
            "connected": lv,
            "connect_rate_per_s": 5000.0,
            "pss_per_conn_bytes": kib * 1024,
        }
        for lv in levels
    ]
    return {"steps": steps, "held_open": levels[-1], "hold_seconds": 55.0}


def _step(rate: float, cpu: float, writes: float | None = 1.0, **changes: Any) -> dict[str, Any]:
    step = {
        "offered_per_s": rate,
        "p50_ms": 0.1,
        "p99_ms": 1.0,
        "server_cpu_us_per_msg": cpu,
        "server_cpu_share": 0.5,
        "generator_bound": False,
        "sustained": True,
        **changes,
    }
    return step if writes is None else {**step, "server_writes_per_msg": writes}


def _relay(best: float, cpu: float) -> dict[str, Any]:
    steps = [_step(rate, cpu, sustained=rate <= best) for rate in (1000.0, 2000.0, 4000.0)]
    return {"rooms": 50, "steps": steps, "max_sustained_per_s": best}


def _storm(joins: float, cpu: float) -> dict[str, Any]:
    return {"joins_per_s": joins, "join_p99_ms": 30.0, "server_cpu_us_per_join": cpu}


def _fan(rate: float, window: int = 8) -> dict[str, Any]:
    return {
        "room_size": 50,
        "events": 2000,
        "window": window,
        "deliveries_per_s": rate,
        "event_p99_ms": 5.0,
        "server_cpu_us_per_delivery": 8.0,
        "server_cpu_share": 0.9,
        "generator_cpu_share": 0.9,
    }


def _results(**per_server: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """A run's results: ``per_server[server][workload]`` is that server's one run of it."""
    workloads: dict[str, dict[str, list[dict[str, Any]]]] = {}
    for server, runs in per_server.items():
        for label, run in runs.items():
            workloads.setdefault(label, {})[server] = [run]
    return {
        "plan": {"runs": 1, "storm_sizes": [2, 10], "storm_peers": 10000},
        "machine": {
            **{
                "nproc": 2,
                "cpu_model": "test",
                "memory_gib": 1.0,
                "kernel": "6",
                "fd_limit": 65536,
            },
            "revision": "abc1234",
            "versions": {"python": "3.11"},
        },
        "cpu_sharing": "server on core 1",
        "started": "2026-12-01 10:00:00 UTC",
        "finished": "2026-12-01 10:40:00 UTC",
        "workloads": workloads,
    }


def _server(kib: float, best: float, cpu: float, joins: float, join_cpu: float) -> dict[str, Any]:
    return {
        "idle": _idle(kib),
        "relay": _relay(best, cpu),
        "storm2": _storm(joins, join_cpu),
        "storm10": _storm(joins * 0.8, join_cpu),
        "fanout": _fan(joins * 20),
    }


def _full_run() -> dict[str, Any]:
    ours = _server(kib=4.0, best=4000, cpu=10.0, joins=5000, join_cpu=120)
    ours["idle-shared"] = {
        **{"level": 20000, "connected": 20000, "held_open": 20000, "hold_seconds": 55.0},
        **{"server_processes": 2, "generator_processes": 2, "connect_rate_per_s": 1500.0},
        "per_shard_connected": [10000, 10000],
        "per_instance_connections": [10010, 9990],
        "pss_per_conn_bytes": 4300,
        "pss_per_conn_with_broker_bytes": 4800,
    }
    ours["cluster"] = {**_relay(2000, 40.0), "instances": 2}
    return _results(
        ours=ours,
        **{"y-webrtc": _server(kib=6.0, best=2000, cpu=12.0, joins=4000, join_cpu=240)},
        peerjs=_server(kib=7.0, best=2000, cpu=11.0, joins=3500, join_cpu=250),
    )


P2P = {
    "rounds": 3,
    "samples_per_round": 200,
    "measured": "2026-12-01 10:45:00 UTC",
    "cases": {
        f"chromium-chromium {path}": {
            "median_p50_ms": rtt,
            "median_p99_ms": rtt * 2,
            "median_one_way_p50_ms": rtt / 2,
            "median_one_way_p99_ms": rtt,
        }
        for path, rtt in (("datachannel", 0.3), ("via signaling", 0.7))
    },
}


def _write(tmp_path: Path, results: dict[str, Any], history: str | None = None) -> str:
    (tmp_path / "results.json").write_text(json.dumps(results))
    (tmp_path / "p2p.json").write_text(json.dumps(P2P))
    doc = tmp_path / "docs" / "benchmarks.md"
    if history is not None:
        doc.parent.mkdir()
        doc.write_text(f"# Old\n\nold figures\n\n## History\n\n{history}\n")
    write_report(tmp_path / "results.json", doc)
    return doc.read_text()


def _summary_row(text: str, figure: str) -> list[str]:
    (line,) = [line for line in text.splitlines() if line.startswith(f"| {figure}")]
    return [cell.strip() for cell in line.strip("|").split("|")]


def test_a_run_makes_every_target_row_judged_against_the_best_peer(tmp_path: Path) -> None:
    text = _write(tmp_path, _full_run())
    assert _summary_row(text, "directed relay: highest rate with p99 ≤ 50 ms")[1:] == [
        *("4,000 msg/s", "2,000 msg/s", "2.00", "≥ 1.0", "yes")
    ]
    assert _summary_row(text, "server CPU per relayed message at 2,000 msg/s")[1:] == [
        *("10.0 µs", "11.0 µs", "0.91", "≤ 1.0", "yes")
    ]
    assert _summary_row(text, "memory per idle connection at 20,000 (PSS)")[1:4] == [
        *("4.0 KiB", "6.0 KiB", "0.67")
    ]
    assert _summary_row(text, "20,000 idle connections held (ours)")[5] == "yes"
    assert _summary_row(text, "20,000 idle connections held (ours, 2 processes")[1] == "1/1 runs"
    connection = _summary_row(text, "server CPU per new connection")
    assert connection[0].endswith("10,000 opened into rooms of 2")
    assert connection[1:] == ["120 µs", "240 µs", "0.50", "≤ 1.0", "yes"]
    assert _summary_row(text, "join storm, rooms of 10: joins/s")[1:5] == [
        *("4,000", "3,200", "1.25", "(none)")
    ]
    assert _summary_row(text, "fan-out to a room of 50: deliveries/s")[1] == "100,000"
    assert _summary_row(text, "directed relay across 2 instances (Redis)")[1] == "2,000 msg/s"
    # Ours as two instances is the relay table's last column.
    assert "| offered msg/s | ours | y-webrtc | peerjs | ours, 2 instances + Redis |" in text
    assert "| 4,000 | 0.10 / 1.0 ms, 10.0 µs [1] |" in text
    assert "| highest rate sustained (median) | 4,000 | 2,000 | 2,000 | 2,000 |" in text
    assert _summary_row(text, "peer to peer")[1] == "0.150 ms; 0.350 ms"
    assert "Every target with a number was met in this run." in prose(text)
    assert (
        "Measured 2026-12-01 10:00:00 UTC to 2026-12-01 10:40:00 UTC, revision `abc1234`"
        in prose(text)
    )
    for plot in ("idle-memory", "relay-p99", "relay-cpu", "storm-joins", "fan-out", "p2p"):
        assert f"![{plot}](benchmarks/{plot}.png)" in text
        assert (tmp_path / "docs" / "benchmarks" / f"{plot}.png").stat().st_size > 0


def test_a_missed_target_is_listed_with_how_far_it_missed(tmp_path: Path) -> None:
    results = _full_run()
    results["workloads"]["storm2"]["ours"] = [_storm(5000, 300)]
    text = _write(tmp_path, results)
    assert _summary_row(text, "server CPU per new connection")[5] == "no (25% over)"
    assert "Targets not reached:" in text
    assert "- **server CPU per new connection (upgrade, ticket check, welcome)" in text


def test_the_history_section_of_the_document_replaced_is_kept_as_it_was(tmp_path: Path) -> None:
    history = "Measured 2026-11-30 at `2fcca6f` and `396dfc7`:\n\n| a | b |\n|---|---|\n| 1 | 2 |"
    text = _write(tmp_path, _full_run(), history=history)
    assert "old figures" not in text
    assert text.endswith(f"## History\n\n{history}\n")
    assert text.index("## Directed relay") < text.index("## History")


def test_with_a_baseline_ours_is_also_set_against_ours_before(tmp_path: Path) -> None:
    results = _full_run()
    before = _server(kib=16.0, best=1000, cpu=25.0, joins=4000, join_cpu=200)
    for label, run in before.items():
        results["workloads"][label]["ours-before"] = [run]
    results["baseline"] = "2fcca6f"
    text = _write(tmp_path, results)
    assert (
        "| figure | ours | best peer | ours ÷ best peer | target | met? | ours-before (`2fcca6f`)"
        in (text)
    )
    assert "**ours-before** is our server at `2fcca6f`" in prose(text)
    relay = _summary_row(text, "directed relay: highest rate with p99 ≤ 50 ms")
    assert relay[1:4] == ["4,000 msg/s", "2,000 msg/s", "2.00"]  # the baseline is no peer
    assert relay[6:] == ["1,000 msg/s", "4.00"]
    memory = _summary_row(text, "memory per idle connection at 20,000 (PSS)")
    assert memory[6:] == ["16.0 KiB", "0.25"]
    assert "| connections | ours | ours-before | y-webrtc | peerjs |" in text


def test_write_calls_are_tabled_where_measured(tmp_path: Path) -> None:
    def runs(writes: float | None) -> list[dict[str, Any]]:
        steps = [_step(1000.0, 30.0, writes), _step(40000.0, 10.0, writes)]
        return [{"rooms": 50, "steps": steps, "max_sustained_per_s": 40000.0}]

    relay = {"ours": runs(0.6), "y-webrtc": runs(1.0), "peerjs": runs(None)}
    report = Report({"workloads": {"relay": relay}}, plots=tmp_path)
    text = relay_section(report) or ""
    assert "| server write calls per message at 1,000 msg/s | 0.60 | 1.00 | n/a |" in text
    assert "| server write calls per message at 40,000 msg/s | 0.60 | 1.00 | n/a |" in text


def test_fan_out_section_states_the_run_it_reports(tmp_path: Path) -> None:
    fan = {
        "ours": [_fan(120_000, window=6), _fan(130_000, window=6)],
        "y-webrtc": [_fan(100_000)],
        "peerjs": [_fan(80_000)],
    }
    report = Report({"workloads": {"fanout": fan}}, plots=tmp_path)
    text = fan_out_section(report) or ""
    assert "2,000 events to every member of one room of 50, at most 6 events in flight" in prose(
        text
    )
    assert "| deliveries/s | 125,000 | 100,000 | 80,000 |" in text
    (row,) = report.rows
    assert row[:4] == ["fan-out to a room of 50: deliveries/s", "125,000", "100,000", "1.25"]
    assert (tmp_path / "fan-out.png").stat().st_size > 0


def test_the_live_feel_joins_the_report_when_it_was_measured(tmp_path: Path) -> None:
    without = _write(tmp_path, _full_run())
    assert "## Live feel in the real app" not in without
    (tmp_path / "live.json").write_text(json.dumps(live_results({})))
    with_live = _write(tmp_path, _full_run())
    assert "## Live feel in the real app" in with_live
    assert "30.1/s (sent 30.0/s, 60 pointer events/s)" in with_live


def test_the_live_section_states_every_figure_and_where_it_comes_from() -> None:
    text = live_section(live_results({})) or ""
    assert text.startswith("## Live feel in the real app\n")
    assert "Measured at abc1234 on 2026-12-02" in prose(text)
    assert (
        "| drag start, pointer event → the other tab's DOM (median / p99) | 14.6 ms / 17.5 ms |"
        in text
    )
    assert "| 2.4 ms / 3.8 ms |" in text
    assert "| drop, pointer up → the other tab's DOM (median / p99) | 1.9 ms / 2.5 ms |" in text
    assert "30.1/s (sent 30.0/s, 60 pointer events/s)" in text
    assert "a tenth tab linked directly with 9" in text
    assert "(3 rounds) | 800 ms (700 to 900) / 250 ms (200 to 300) |" in text
    assert "the bot linked directly with 5 tabs" in text
    assert "its link then said connecting" in text
    assert "over the relay, from the pointer event / from its handling" in text
    assert "| 17.6 ms / 20.6 ms; 3.1 ms / 4.2 ms |" in text
    assert "during 40 drags between linked tabs | 0 (none) |" in text


def test_messages_the_server_did_receive_during_drags_are_named() -> None:
    text = live_section(live_results({"relay": 3.0, "signal": 2.0})) or ""
    assert "during 40 drags between linked tabs | 5 (relay 3, signal 2) |" in text
