"""The "Before and after our optimisations" section of ``docs/benchmarks.md``.

Reads ``bench/results/revisions.json`` (``python -m bench revisions``): our server at earlier
revisions and now, measured with one generator on one machine in one sitting, so the columns
compare like with like (the main run's figures come from whichever machine ran ``make bench``).
"""

from __future__ import annotations

import math
from typing import Any, Final

from bench.report import (
    _fmt,
    _median_of,
    _ok,
    _plot,
    _table,
    idle_medians,
    relay_medians,
)

FIRST_ROUND: Final = [
    "Hot-path logging: each relayed `signal` is still one INFO line, but formatted directly and "
    "written once per event-loop turn instead of through `logging.Logger` (a record, a lock, a "
    "formatter and a flush per line), with the common field types formatted inline "
    "(`signaling/logs.py`; 11 → 6 µs per line in a micro-benchmark).",
    "orjson instead of the standard library's json for parsing and re-encoding each message "
    "(`signaling/protocol.py`).",
    "uvloop as the event loop (`--event-loop`, default uvloop).",
    "Lock-free counters for the two per-message metrics, exported by a collector at scrape time "
    "(`signaling/metrics.py`).",
    "A running count of local peers: `/metrics` gauges were recomputed by scanning every member on "
    "each join and leave (28.7 % of CPU in the idle/join profile).",
    "Slotted connection objects, a send queue and extra rate buckets made only when needed, no "
    "permessage-deflate (a zlib context per browser socket), GC thresholds raised and start-up "
    "objects frozen.",
]

SECOND_ROUND: Final = [
    "No task per websocket: aiohttp's `WebSocketResponse` kept a handler task, its coroutine "
    "frames, the request with its headers, a message queue and heartbeat timers alive per socket "
    "(about 15 KB idle, measured with tracemalloc). Upgrades to `/ws` are now answered before "
    "aiohttp's request handler is made (`signaling/serving.py`, `signaling/wire.py`); each socket "
    "is an asyncio protocol whose frames aiohttp's C `WebSocketReader` parses and our code handles "
    "inside `data_received`, with sends written straight to the transport "
    "(`signaling/connection.py`). Join deadlines are timers; heartbeats are one sweep over all "
    "sockets instead of two timers per socket.",
    "Tickets verified with the secret prepared once as an HS256 key (31 → 24 µs per ticket).",
    "A broadcast (hook events, presence) builds its frame once and writes it to every member.",
    "The log writer remembers the running loop and reuses a millisecond's timestamp "
    "(`get_running_loop`'s `getpid()` was 2.6 % of relay CPU).",
    "One function for the whole relay of a `signal` (`SignalingServer._relay_signal`): parsed "
    "first, encoded straight to bytes and framed without a str round trip, counters as plain "
    "dict increments, candidate summaries and log-line endings made once for the four candidate "
    "types: 794 → 611 Python bytecodes per relayed signal (traced; 649 once routing and delivery "
    "went back to the helpers the `relay` path shares).",
    "A busy log written at most every 50 ms instead of once per loop turn: at low rates a turn "
    "carries one signal, and its log write was a second system call beside the frame's "
    "(22.1k → 16.1k write calls for 16k messages at 4,000 msg/s).",
    "Low-rate trims (`e820154`, `48e3e64`): no end-of-turn callback per log line while a write "
    "is timed, rate buckets read at the frame's arrival time, text frame headers from a table "
    "(counted before and after in *Instructions per relayed message*).",
    "Held writes (`6959794`): a read of several frames writes each recipient's frames in one "
    "system call (measured before and after in *Held writes*; write calls per message in "
    "*Directed relay*).",
]


def _change(first: float, last: float) -> str:
    if not first or math.isnan(first) or math.isnan(last):
        return "n/a"
    return f"{last / first:.2f}x"


def _figures(revisions: list[dict[str, Any]]) -> list[list[str]]:
    """One row per figure: its value at each revision, then last ÷ first."""
    works = [r["workloads"] for r in revisions]
    rows: list[list[str]] = []

    def add(name: str, values: list[float], unit: str, digits: int = 0) -> None:
        cells = [f"{_fmt(v, digits)} {unit}".strip() for v in values]
        rows.append([name, *cells, _change(values[0], values[-1])])

    relay = [w.get("relay", {}).get("ours", []) for w in works]
    if all(_ok(runs) for runs in relay):
        add(
            "relay: highest rate with p99 ≤ 50 ms",
            [_median_of(runs, "max_sustained_per_s") for runs in relay],
            "msg/s",
        )
        medians = [relay_medians(runs) for runs in relay]
        for rate in sorted(set.intersection(*(set(m) for m in medians))):
            add(
                f"relay: server CPU per message at {rate:,.0f} msg/s",
                [m[rate]["server_cpu_us_per_msg"] for m in medians],
                "µs",
                1,
            )
    idle = [idle_medians(w.get("idle", {}).get("ours", [])) for w in works]
    for level in sorted(set.intersection(*(set(m) for m in idle))):
        add(
            f"idle: memory per connection at {level:,} (PSS)",
            [m[level]["pss_per_conn_bytes"] / 1024 for m in idle],
            "KiB",
            1,
        )
    for key, title in (
        ("storm2", "rooms of 2"),
        ("storm10", "rooms of 10"),
        ("storm50", "rooms of 50"),
    ):
        storms = [w.get(key, {}).get("ours", []) for w in works]
        if all(_ok(runs) for runs in storms):
            add(f"join storm, {title}: joins/s", [_median_of(r, "joins_per_s") for r in storms], "")
            add(
                f"join storm, {title}: p99 time to welcome",
                [_median_of(r, "join_p99_ms") for r in storms],
                "ms",
            )
    fans = [w.get("fanout", {}).get("ours", []) for w in works]
    if all(_ok(runs) for runs in fans):
        add("fan-out to 50: deliveries/s", [_median_of(r, "deliveries_per_s") for r in fans], "")
    return rows


def _held(runs: list[dict[str, Any]]) -> str:
    return ", ".join(str(run.get("held_open", "?")) for run in _ok(runs)) or "n/a"


def _relay_cpu_plot(revisions: list[dict[str, Any]]) -> str:
    def draw(axes: Any) -> None:
        from matplotlib.ticker import NullFormatter, ScalarFormatter

        plotted = False
        for revision in revisions:
            medians = relay_medians(revision["workloads"].get("relay", {}).get("ours", []))
            rates = [rate for rate, m in medians.items() if m["sustained"] >= 0.5]
            plotted = plotted or bool(rates)
            axes.plot(
                rates,
                [medians[rate]["server_cpu_us_per_msg"] for rate in rates],
                marker="o",
                label=f"{revision['label']} ({revision['commit']})",
            )
        if plotted:  # a partial results file (a run in progress) may have no relay yet
            axes.set_xscale("log")
            axes.xaxis.set_major_formatter(ScalarFormatter())  # 1000, not 10^3
            axes.xaxis.set_minor_formatter(NullFormatter())
        axes.set_ylim(bottom=0)
        axes.set_xlabel("offered msg/s (steps sustained)")
        axes.set_ylabel("server CPU µs per message")

    return _plot("before-after-relay-cpu", draw)


def _idle_memory_plot(revisions: list[dict[str, Any]]) -> str:
    def draw(axes: Any) -> None:
        for revision in revisions:
            medians = idle_medians(revision["workloads"].get("idle", {}).get("ours", []))
            levels = sorted(medians)
            axes.plot(
                levels,
                [medians[level]["pss_per_conn_bytes"] / 1024 for level in levels],
                marker="o",
                label=f"{revision['label']} ({revision['commit']})",
            )
        axes.set_xlabel("idle connections")
        axes.set_ylabel("server KiB per connection (PSS)")
        axes.set_ylim(bottom=0)

    return _plot("before-after-idle-memory", draw)


def revisions_section(data: dict[str, Any]) -> list[str]:
    """The section: what each revision is, the figures side by side, what changed between them."""
    revisions: list[dict[str, Any]] = data["revisions"]
    runs = data["plan"]["runs"]
    load_start, load_end = data.get("load_average_start", []), data.get("load_average_end", [])
    lines = [
        "## Before and after our optimisations",
        "",
        "Our server only, at each revision below, driven by the same generator with the same plan "
        f"on the same machine in one sitting (`make bench-revisions`, "
        f"`bench/results/revisions.json`): {data['started']} to {data.get('finished', '?')}, "
        f"runs per workload: {runs}, interleaved across the revisions, medians quoted. An earlier "
        "revision's `signaling/` is exported with `git archive` and run with today's "
        "dependencies. Load average (1 min) at the start "
        f"{load_start[0] if load_start else '?'}, at the end {load_end[0] if load_end else '?'}. "
        "The figures in the sections above come from the main run and may be from another "
        "session's machine (its speed varies by up to 2x); compare within one table.",
        "",
    ]
    for revision in revisions:
        dirty = (
            " (with uncommitted changes)" if revision.get("signaling_changes_uncommitted") else ""
        )
        lines.append(
            f"- **{revision['label']}**, `{revision['commit']}`{dirty}: {revision['description']}."
        )
    lines.append("")
    header = [
        "figure",
        *(f"{r['label']} (`{r['commit']}`)" for r in revisions),
        f"{revisions[-1]['label']} / {revisions[0]['label']}",
    ]
    lines += _table(header, _figures(revisions))
    top = max(
        (max(idle_medians(r["workloads"].get("idle", {}).get("ours", [])), default=0))
        for r in revisions
    )
    held = "; ".join(
        f"{r['label']}: {_held(r['workloads'].get('idle', {}).get('ours', []))}" for r in revisions
    )
    lines += [
        f"Idle connections still open after the hold at {top:,} (per run): {held}.",
        "",
        _relay_cpu_plot(revisions),
        _idle_memory_plot(revisions),
        "",
        f"What changed from *{revisions[0]['label']}* to *{revisions[1]['label']}*, in the order "
        "the profiles pointed at it:",
        "",
        *(f"- {item}" for item in FIRST_ROUND),
        "",
        f"And from *{revisions[1]['label']}* to *{revisions[-1]['label']}*:",
        "",
        *(f"- {item}" for item in SECOND_ROUND),
        "",
    ]
    return lines


HELD_WRITES_COMMIT: Final = "6959794"  # the change; "before" is its parent, fc2a78d


def held_writes_section(sittings: list[dict[str, Any]]) -> list[str]:
    """Ours with and without held writes (``signaling/connection.py``): relay ladders of ours
    alone, before and after the change in turn on one host (``bench/results/held-writes/``)."""
    rows = []
    for number, sitting in enumerate(sittings, start=1):
        machine = sitting["machine"]
        after = machine.get("signaling_changes_uncommitted", False)
        runs = sitting["workloads"]["relay"]["ours"]
        rows.append(
            [
                str(number),
                f"{sitting['started'][11:16]}-{sitting['finished'][11:16]}",
                "after" if after else "before",
                ", ".join(_fmt(float(run["max_sustained_per_s"]), 0) for run in _ok(runs)),
                _fmt(_median_of(runs, "max_sustained_per_s"), 0),
            ]
        )
    day = sittings[0]["started"][:10] if sittings else "?"
    return [
        "## Held writes: one write per recipient for a read of several frames",
        "",
        f"Since `{HELD_WRITES_COMMIT}` a read that holds several frames (a burst of trickled ICE "
        "candidates; at high relay rates most reads) holds the frames it causes and writes each "
        "recipient's in one system call when the read is done, instead of one call per frame "
        "(`signaling/connection.py`). Measured on "
        f"{day} before the main run above, with `python -m bench run --servers ours --workloads "
        "relay`, four sittings of 3 runs in turn: *before* at its parent `fc2a78d`, *after* with "
        "the change as a working-tree edit of `fc2a78d` (the committed version differs in a "
        "docstring and a type annotation). Files: `bench/results/held-writes/`.",
        "",
        *_table(
            [
                "sitting",
                "UTC",
                "ours",
                "highest rate with p99 ≤ 50 ms, each run",
                "median",
            ],
            rows,
        ),
        "From about 24,000 msg/s on, the server's core was busy 90-100 % in every sitting, before "
        "and after: a saturated server keeps up by reading more frames per wake-up, so its CPU "
        "per message there is one core divided by the rate whatever it does (see *Directed "
        "relay*). What the change buys is that those batched frames cost less to send, so "
        "latency stays under 50 ms up to a higher rate. The main run above counts the write "
        "calls per delivered message.",
        "",
    ]
