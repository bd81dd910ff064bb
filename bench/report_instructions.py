"""The "Instructions per relayed message" section of ``docs/benchmarks.md``.

Reads ``bench/results/instructions.json`` (``python -m bench instructions``) and adds a row to the
summary table: the CPU target judged by a count the host's speed does not move.
"""

from __future__ import annotations

import math
from typing import Any

from bench.instructions import summary as median_per_message
from bench.report import NA, PEERS, SERVERS, _fmt, _met, _ratio, _table
from bench.stats import median


def _complete(runs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [run for run in runs if run.get("complete")]


def instructions_section(data: dict[str, Any], summary: list[list[str]]) -> list[str]:
    """Per server: instructions per message (median of runs), each run's figure, the whole step."""
    plan = data["plan"]
    low, high = (f"{rate:,.0f}" for rate in plan["rates"])
    servers = data["servers"]
    per_message = {name: median_per_message(servers.get(name, [])) for name in SERVERS}
    whole_step = {name: _whole_step_median(servers.get(name, [])) for name in SERVERS}
    rows = []
    for name in SERVERS:
        runs = servers.get(name, [])
        errors = [run["error"] for run in runs if "error" in run]
        if errors:
            rows.append([name, NA, errors[0], NA, NA])
            continue
        rows.append(
            [
                name,
                _fmt(per_message[name], 0),
                ", ".join(
                    f"{run['instructions_per_message']:,}"
                    + ("" if run["complete"] else " (messages lost)")
                    for run in runs
                ),
                _fmt(whole_step[name], 0),
                f"{len(_complete(runs))} of {len(runs)}",
            ]
        )
    lines = [
        "## Instructions per relayed message (callgrind)",
        "",
        "CPU time per message moves with this shared host's speed, by up to 2x within one "
        "session, which hides differences of 5-20 % between servers at low rates. valgrind's "
        "callgrind counts the user-space instructions a process executes: the same count for "
        "the same work, whatever the host is doing. Measured "
        f"{data.get('started', '?')} at revision `{data['machine'].get('revision', '?')}` "
        "(`bench/results/instructions.json`). `python -m bench instructions` runs each "
        f"server under callgrind ({data['machine'].get('valgrind', '?')}), warms it up for "
        f"{plan['warm_up_seconds']:.0f} s, then relays in {plan['rooms']} rooms of two at "
        f"{low} and at {high} msg/s for {plan['step_seconds']:.0f} s each, zeroing the counters "
        "before each step and dumping them after it; this is one run, and there are "
        f"{plan['runs']}. *Per message* is the difference of the two counts divided by the "
        "difference of the messages delivered: what one more relayed message costs, with the "
        "step's fixed work (joins, leaves, timers, heartbeats) cancelled out. *Whole step* is "
        f"the count at {high} msg/s divided by its messages, that fixed work included. At these "
        "rates every message is a wake-up of its own, as at the lowest steps of the relay ladder "
        "above, where timed CPU per message is the least steady. Not counted: the kernel's work "
        "(one `read` and one `write` per message for each of the three servers at 2,000 msg/s, "
        "when we counted once with `strace -c -f -p <server pid>` during a relay step) and time "
        "lost to cache misses.",
        "",
    ]
    lines += _table(
        [
            "server",
            "instructions per message (median)",
            "each run",
            f"whole step at {high} msg/s (median)",
            "runs with every message delivered",
        ],
        rows,
    )
    ratio, _ = _ratio(per_message["ours"], [per_message[p] for p in PEERS], higher_is_better=False)
    best_peer = min((per_message[p] for p in PEERS if not math.isnan(per_message[p])), default=None)
    if not math.isnan(ratio):
        text = (
            f"Ours ÷ the best peer: {_fmt(ratio, 2)} (per message), "
            f"{_whole_step_ratio(whole_step)}."
        )
        if ratio > 1:
            peer = min(
                (p for p in PEERS if not math.isnan(per_message[p])), key=per_message.__getitem__
            )
            ours_low, ours_high = _run_range(servers["ours"])
            peer_low, peer_high = _run_range(servers[peer])
            overlap = "overlap" if ours_low <= peer_high else "do not overlap"
            text += (
                f" Per message ours is {ratio - 1:.0%} above {peer}; the runs of the two "
                f"{overlap} (ours {ours_low:,}-{ours_high:,}, {peer} {peer_low:,}-{peer_high:,})."
            )
        lines += [text, ""]
    summary.append(
        [
            f"user-space instructions per relayed message, {low} → {high} msg/s (callgrind)",
            _fmt(per_message["ours"], 0),
            NA if best_peer is None else _fmt(best_peer, 0),
            _fmt(ratio, 2),
            "≤ 1.0",
            _met(ratio, 1.0, lower=True),
        ]
    )
    return lines


def _run_range(runs: list[dict[str, Any]]) -> tuple[int, int]:
    values = [run["instructions_per_message"] for run in _complete(runs)]
    return min(values), max(values)


def _whole_step_median(runs: list[dict[str, Any]]) -> float:
    return median([run["high"]["instructions_per_message_whole_step"] for run in _complete(runs)])


def _whole_step_ratio(whole_step: dict[str, float]) -> str:
    ratio, _ = _ratio(whole_step["ours"], [whole_step[p] for p in PEERS], higher_is_better=False)
    return f"{_fmt(ratio, 2)} (whole step)"
