"""Turn ``bench/results/results.json`` (and ``p2p.json``) into ``docs/benchmarks.md`` and plots.

Everything in the document is computed here from the results, so ``python -m bench report`` after a
re-run regenerates it whole. Medians are over the runs of each workload; ratios are ours divided by
the best of the two peer servers in the same run set.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any, Final

from bench.servers import OUR_FLAGS, ROOT
from bench.stats import median

DOC: Final = ROOT / "docs" / "benchmarks.md"
PLOTS: Final = ROOT / "docs" / "benchmarks"
PEERS: Final = ("y-webrtc", "peerjs")
NA: Final = "n/a"
SERVERS: Final = ("ours", *PEERS)

Runs = list[dict[str, Any]]


def _ok(runs: Runs) -> Runs:
    return [run for run in runs if "error" not in run]


def _fmt(value: float, digits: int = 1) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return NA
    if abs(value) >= 1000:
        return f"{value:,.0f}"
    return f"{value:.{digits}f}"


def _table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return [*lines, ""]


def _ratio(ours: float, peers: Sequence[float], higher_is_better: bool) -> tuple[float, str]:
    clean = [p for p in peers if not math.isnan(p)]
    if not clean or math.isnan(ours):
        return math.nan, NA
    best = max(clean) if higher_is_better else min(clean)
    return ours / best if best else math.nan, _fmt(best)


# --- extracting medians -------------------------------------------------------------------------


def idle_medians(runs: Runs) -> dict[int, dict[str, float]]:
    by_level: dict[int, dict[str, list[float]]] = {}
    for run in _ok(runs):
        for step in run["steps"]:
            slot = by_level.setdefault(step["level"], {})
            for key in (
                "rss_per_conn_bytes",
                "pss_per_conn_bytes",
                "connect_rate_per_s",
                "connected",
            ):
                slot.setdefault(key, []).append(float(step[key]))
    return {level: {k: median(v) for k, v in slot.items()} for level, slot in by_level.items()}


SATURATED: Final = 0.9  # a server core busier than this (median) counts as saturated


def relay_medians(runs: Runs) -> dict[float, dict[str, float]]:
    by_rate: dict[float, dict[str, list[float]]] = {}
    for run in _ok(runs):
        for step in run["steps"]:
            slot = by_rate.setdefault(step["offered_per_s"], {})
            for key in ("p50_ms", "p99_ms", "server_cpu_us_per_msg", "achieved_per_s"):
                slot.setdefault(key, []).append(float(step[key]))
            slot.setdefault("server_cpu_share", []).append(float(step.get("server_cpu_share", 0)))
            if "server_writes_per_msg" in step:  # measured since fc2a78d's successor
                slot.setdefault("server_writes_per_msg", []).append(
                    float(step["server_writes_per_msg"])
                )
            slot.setdefault("generator_bound", []).append(float(step["generator_bound"]))
            slot.setdefault("sustained", []).append(float(step["sustained"]))
            slot.setdefault("runs", []).append(1.0)
    return {
        rate: {k: (sum(v) if k == "runs" else median(v)) for k, v in slot.items()}
        for rate, slot in sorted(by_rate.items())
    }


def _writes_rows(
    medians: dict[str, dict[float, dict[str, float]]], rates: list[float]
) -> list[list[str]]:
    """Rows of the servers' write system calls per delivered message at ``rates`` (none for
    results measured before they were counted)."""
    rows = []
    for rate in sorted({rate for rate in rates if not math.isnan(rate)}):
        cells = [medians[s].get(rate, {}).get("server_writes_per_msg", math.nan) for s in SERVERS]
        if not all(math.isnan(cell) for cell in cells):
            rows.append(
                [
                    f"server write calls per delivered message at {_fmt(rate, 0)} msg/s",
                    *[_fmt(cell, 2) for cell in cells],
                ]
            )
    return rows


def _median_of(runs: Runs, key: str) -> float:
    return median([float(run[key]) for run in _ok(runs) if key in run])


# --- plots --------------------------------------------------------------------------------------


def _plot(name: str, draw: Callable[[Any], object]) -> str:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    PLOTS.mkdir(parents=True, exist_ok=True)
    figure, axes = plt.subplots(figsize=(6.4, 3.8), dpi=100)
    draw(axes)
    axes.grid(True, alpha=0.3)
    axes.legend()
    figure.tight_layout()
    figure.savefig(PLOTS / f"{name}.png")
    plt.close(figure)
    return f"![{name}](benchmarks/{name}.png)"


def _bars(
    axes: Any, labels: Sequence[str], series: Mapping[str, Sequence[float]], ylabel: str
) -> None:
    width = 0.8 / max(len(series), 1)
    for offset, (server, values) in enumerate(series.items()):
        xs = [i + offset * width for i in range(len(labels))]
        axes.bar(xs, [0 if math.isnan(v) else v for v in values], width, label=server)
    axes.set_xticks([i + width * (len(series) - 1) / 2 for i in range(len(labels))], labels)
    axes.set_ylabel(ylabel)


# --- sections -----------------------------------------------------------------------------------


def write_report(results_path: Path) -> str:
    results = json.loads(results_path.read_text())
    p2p_path = results_path.with_name("p2p.json")
    p2p = json.loads(p2p_path.read_text()) if p2p_path.exists() else None
    work = results["workloads"]
    lines: list[str] = []
    summary: list[list[str]] = []
    lines += _header(results, p2p)
    body: list[str] = []
    body += _idle_section(work.get("idle", {}), results, summary)
    body += _shared_idle_section(work.get("idle-shared", {}).get("ours", []), summary)
    body += _relay_section(work.get("relay", {}), summary)
    instructions_path = results_path.with_name("instructions.json")
    if instructions_path.exists():
        from bench.report_instructions import instructions_section

        body += instructions_section(json.loads(instructions_path.read_text()), summary)
    body += _storm_section(work, results["plan"], summary)
    body += _fan_out_section(work.get("fanout", {}), summary)
    body += _cluster_section(work.get("cluster", {}).get("ours", []), work.get("relay", {}))
    body += _p2p_section(p2p)
    lines += ["## Summary: ours against the best peer server", ""]
    lines += _table(["figure", "ours", "best peer", "ratio ours / best", "target", "met?"], summary)
    lines += _targets_text(summary)
    lines += body
    DOC.write_text("\n".join(lines).rstrip() + "\n")
    return str(DOC)


def _header(results: dict[str, Any], p2p: dict[str, Any] | None) -> list[str]:
    machine = results["machine"]
    versions = machine["versions"]
    plan = results["plan"]
    rows = [[name, str(version)] for name, version in versions.items()]
    if p2p:
        rows.append(["chromium", p2p.get("chromium", "?")])
    load = results.get("load_average_start", [])
    end = results.get("load_average_end", [])
    lines = [
        "# Benchmarks: our signaling server beside y-webrtc's and PeerJS's",
        "",
        "Generated by `python -m bench report` from `bench/results/results.json` (written by",
        "`make bench`); do not edit by hand. Issue 7.",
        "",
        f"- Measured {results.get('started', '?')} to {results.get('finished', '?')}, revision "
        f"`{machine.get('revision', '?')}`"
        + (
            " with uncommitted changes in signaling/"
            if machine.get("signaling_changes_uncommitted")
            else ""
        )
        + ".",
        f"- Machine: {machine['nproc']} cores ({machine['cpu_model']}), "
        f"{machine['memory_gib']} GiB, Linux {machine['kernel']}, "
        f"open-file limit {machine['fd_limit']}.",
        f"- **Load average** (1/5/15 min) at start {load}, at end {end}: other engineers run their "
        "test suites on this machine, so every figure below was taken beside their load; each "
        "workload's runs record the load before and after in the results JSON.",
        f"- CPU sharing: {results['cpu_sharing']}. The benchmark ran at nice "
        f"{results.get('nice', 0)}, servers and generator alike"
        + (" (so the others' load disturbs all three servers less)" if results.get("nice") else "")
        + ". Chromium in the peer-to-peer part is not pinned.",
        "- Everything ran inside a loopback-only network namespace (`tools/in_netns.sh`): all "
        "traffic on 127.0.0.1.",
        f"- Runs per workload: {plan['runs']}, interleaved (run 1 of every server, then run 2, "
        "...); every run starts a fresh server. Figures are medians over the runs.",
        f"- Our server ran with `{' '.join(OUR_FLAGS)}` so its per-connection rate limits never "
        "throttle the load (the defaults are 50 msg/s, burst 200), and with its default logging "
        "(human format, INFO, to a file) and heartbeats (20 s).",
        "- The generator is one asyncio process on uvloop with a lean websocket client "
        "(`bench/wsclient.py`: one protocol object per socket, no task; frames masked with a "
        "fresh key each, as RFC 6455 requires of clients); it speaks each server's own protocol "
        "(`bench/adapters.py`). Where it ran out of CPU before the server, a step is marked "
        "*generator-bound*.",
        "",
        "| software | version |",
        "|---|---|",
        *[f"| {a} | {b} |" for a, b in rows],
        "",
    ]
    return lines


def _idle_section(
    idle: dict[str, Runs], results: dict[str, Any], summary: list[list[str]]
) -> list[str]:
    if not idle:
        return []
    medians = {server: idle_medians(idle.get(server, [])) for server in SERVERS}
    levels = sorted({level for m in medians.values() for level in m})
    rows = []
    for level in levels:
        row = [f"{level:,}"]
        for server in SERVERS:
            m = medians[server].get(level, {})
            row += [
                _fmt(m.get("pss_per_conn_bytes", math.nan) / 1024),
                _fmt(m.get("connect_rate_per_s", math.nan), 0),
            ]
        rows.append(row)
    header = ["connections"]
    for server in SERVERS:
        header += [f"{server} KiB/conn (PSS)", f"{server} conn/s"]
    top = levels[-1] if levels else 0
    held = {
        server: [
            f"{run.get('held_open', 0):,}/{run['steps'][-1]['connected']:,}"
            for run in _ok(idle.get(server, []))
            if run.get("steps")
        ]
        for server in SERVERS
    }
    lines = [
        "## Idle connections",
        "",
        "Clients connect in steps (rooms of two; ours: websocket + `join` with a ticket until "
        "`welcome`; y-webrtc: `subscribe` + announce echo; PeerJS: until `OPEN`), 128 at a time. "
        "Memory per connection is the server's PSS (`/proc/<pid>/smaps_rollup`) above its idle "
        "baseline divided by the connections held; VmRSS is in the JSON too. The connect rate is "
        "that step's new connections over its duration. **The connect rate is the generator's "
        "as much as the server's**: the generator is one Python process minting and sending "
        "tickets, opening sockets and parsing welcomes, so only a connect rate below the others' "
        "says something about a server.",
        "",
    ]
    if top < 20000:
        lines += [
            f"The top level is **{top:,}, not 20,000**: this machine's hard open-file limit is "
            f"{results['machine']['fd_limit']:,} per process (`ulimit -Hn`; raising it needs "
            "CAP_SYS_RESOURCE, which this sandbox does not grant), and one process can hold no "
            "more sockets than that; the generator and each server are one process each. The "
            "20,000 target is measured with ours as two processes on one port, below.",
            "",
        ]
    lines += _table(header, rows)
    hold = _median_of(idle.get("ours", []), "hold_seconds")
    lines += [
        f"Held open after the hold at the top level ({hold:g} s "
        "for ours, longer than 2.5 heartbeat intervals of 20 s: a socket idle for 20 s is pinged "
        "and dropped if it stays silent 10 s more, so every connection still open answered its "
        "pings): " + "; ".join(f"{server}: {', '.join(v) or NA}" for server, v in held.items()),
        "",
    ]
    lines.append(
        _plot(
            "idle-memory",
            lambda ax: (
                [
                    ax.plot(
                        levels,
                        [
                            medians[s].get(lv, {}).get("pss_per_conn_bytes", math.nan) / 1024
                            for lv in levels
                        ],
                        marker="o",
                        label=s,
                    )
                    for s in SERVERS
                ],
                ax.set_xlabel("idle connections"),
                ax.set_ylabel("server PSS per connection, KiB"),
            ),
        )
    )
    lines.append(
        _plot(
            "idle-connect-rate",
            lambda ax: (
                [
                    ax.plot(
                        levels,
                        [
                            medians[s].get(lv, {}).get("connect_rate_per_s", math.nan)
                            for lv in levels
                        ],
                        marker="o",
                        label=s,
                    )
                    for s in SERVERS
                ],
                ax.set_xlabel("idle connections (step up to)"),
                ax.set_ylabel("connections/s"),
            ),
        )
    )
    lines.append("")
    if top:
        ours = medians["ours"].get(top, {}).get("pss_per_conn_bytes", math.nan)
        peers = [medians[p].get(top, {}).get("pss_per_conn_bytes", math.nan) for p in PEERS]
        ratio, best = _ratio(ours, peers, higher_is_better=False)
        summary.append(
            [
                f"memory per idle connection at {top:,} (PSS)",
                f"{_fmt(ours / 1024)} KiB",
                f"{_fmt(float(best.replace(',', '')) / 1024) if best != NA else NA} KiB",
                _fmt(ratio, 2),
                "≤ 1.0",
                _met(ratio, 1.0, lower=True),
            ]
        )
        ours_runs = _ok(idle.get("ours", []))
        all_held = bool(ours_runs) and all(
            run.get("held_open") == run["steps"][-1]["connected"] == top for run in ours_runs
        )
        if top >= 20000:
            summary.append(
                [
                    f"{top:,} idle connections held, heartbeats on (ours)",
                    "yes" if all_held else "no",
                    "",
                    "",
                    "20k held",
                    "yes" if all_held else "no",
                ]
            )
        else:  # the 20k target is then judged on the shared-port runs (_shared_idle_section)
            summary.append(
                [
                    f"{top:,} idle connections held by one process, heartbeats on (ours)",
                    "yes" if all_held else "no",
                    "",
                    "",
                    f"all held ({top:,}: the most one process may open here)",
                    "yes" if all_held else "no",
                ]
            )
    return lines


def _shared_idle_section(runs: Runs, summary: list[list[str]]) -> list[str]:
    """Ours as several processes on one port, holding more than one process may."""
    ok = [run for run in _ok(runs) if run.get("connected")]
    if not ok:
        return []
    level = int(ok[0]["level"])
    all_held = len(ok) == len(runs) and all(
        run["held_open"] == run["connected"] == level for run in ok
    )
    rows = [
        [
            f"{index + 1}",
            f"{run['connected']:,} ({' + '.join(f'{n:,}' for n in run['per_shard_connected'])})",
            " + ".join(f"{n:,}" for n in run.get("per_instance_connections", [])) or NA,
            f"{run['held_open']:,}",
            _fmt(run["connect_rate_per_s"], 0),
            _fmt(run["pss_per_conn_bytes"] / 1024),
            _fmt(run["pss_per_conn_with_broker_bytes"] / 1024),
        ]
        for index, run in enumerate(ok)
    ]
    hold = _median_of(ok, "hold_seconds")
    lines = [
        f"### {level:,} idle connections: ours as {ok[0]['server_processes']} processes on one "
        "port",
        "",
        "One process may hold no more sockets than the open-file limit, so on this machine "
        f"neither a server nor the generator can hold {level:,} alone. Ours runs as several "
        "instances on one port (`--reuse-port`, SO_REUSEPORT: the kernel spreads new connections "
        "among them; one private Redis as `--broker`, so peers of one sprint on different "
        "instances still meet; instances and Redis all pinned to the one server core), the "
        "deployment `docs/operations.md` describes for using more than "
        f"one core of a host; the generator opens the clients from {ok[0]['generator_processes']} "
        "processes. Neither peer server can run as several processes, so there is no peer row. "
        f"Held: still open after {hold:g} s (more than 2.5 heartbeat intervals, as above). Memory: "
        "the instances' PSS above their idle baseline per connection, and with Redis's growth "
        "added (Redis keeps each peer in its sprint's directory).",
        "",
    ]
    lines += _table(
        [
            "run",
            "connected (per generator process)",
            "per instance",
            "held",
            "conn/s",
            "KiB/conn (PSS)",
            "KiB/conn with Redis",
        ],
        rows,
    )
    summary.append(
        [
            f"{level:,} idle connections held, heartbeats on (ours, "
            f"{ok[0]['server_processes']} processes on one port)",
            f"{sum(run['held_open'] == level for run in ok)}/{len(runs)} runs",
            "",
            "",
            "20k held",
            "yes" if all_held and level >= 20000 else "no",
        ]
    )
    return lines


def _met(ratio: float, target: float, lower: bool) -> str:
    if math.isnan(ratio):
        return NA
    ok = ratio <= target if lower else ratio >= target
    if ok:
        return "yes"
    miss = (ratio / target - 1) if lower else (1 - ratio / target)
    return f"no ({miss:.0%} {'over' if lower else 'short'})"


def _relay_section(relay: dict[str, Runs], summary: list[list[str]]) -> list[str]:
    if not relay:
        return []
    medians = {server: relay_medians(relay.get(server, [])) for server in SERVERS}
    best = {server: _median_of(relay.get(server, []), "max_sustained_per_s") for server in SERVERS}
    rates = sorted({rate for m in medians.values() for rate in m})
    rows = []
    for rate in rates:
        row = [f"{rate:,.0f}"]
        for server in SERVERS:
            m = medians[server].get(rate)
            if m is None:
                row.append(NA)
                continue
            flag = " (gen)" if m["generator_bound"] >= 0.5 else ""
            row.append(
                f"{_fmt(m['p50_ms'], 2)} / {_fmt(m['p99_ms'], 1)} ms, "
                f"{_fmt(m['server_cpu_us_per_msg'])} µs{flag} [{m['runs']:.0f}]"
            )
        rows.append(row)
    runs = relay.get("ours", [{}])
    rooms = _ok(runs)[0].get("rooms", "?") if _ok(runs) else "?"
    step = _ok(runs)[0].get("step_seconds", "?") if _ok(runs) else "?"
    # CPU per message compared at the highest rate every server sustained with its core not
    # saturated (median of runs): a saturated server reads more frames per wake-up, so its CPU
    # per message there is just one core divided by the rate, the same for every server.
    sustained_by_all = min(
        (b for b in best.values() if not math.isnan(b) and b > 0), default=math.nan
    )
    unsaturated = [
        rate
        for rate in rates
        if rate <= sustained_by_all
        and all(
            rate in medians[s] and medians[s][rate]["server_cpu_share"] < SATURATED for s in SERVERS
        )
    ]
    reference = max(unsaturated, default=sustained_by_all)
    cpu = {s: medians[s].get(reference, {}).get("server_cpu_us_per_msg", math.nan) for s in SERVERS}
    step_ratios = [
        medians["ours"][rate]["server_cpu_us_per_msg"]
        / min(medians[p][rate]["server_cpu_us_per_msg"] for p in PEERS)
        for rate in unsaturated
    ]
    lines = [
        "## Directed relay",
        "",
        f"{rooms} rooms of two peers; each message (~200 bytes, an ICE candidate plus a timestamp) "
        "goes from one peer to the other, round-robin over the pairs, alternating direction. Ours: "
        "`signal` to a peer id (logged at INFO, as in production); PeerJS: `CANDIDATE` with `dst`; "
        "y-webrtc: `publish` to the other peer's own topic (its best case: a real y-webrtc client "
        "publishes to the room topic, which the server copies to every member including the "
        f"sender). Offered rates rise in steps of {step} s; a step is *sustained* when p99 ≤ 50 ms "
        "and ≥ 99 % arrived; the ladder stops after two failed steps in a row. Latency is send → "
        "arrival on the generator's clock, so it includes the generator's own scheduling delay.",
        "",
        "Cells: p50 / p99 latency, server CPU per delivered message (utime+stime from "
        "`/proc/<pid>/stat` over the step), `(gen)` when the generator was the bottleneck, "
        "`[n]` runs that reached this step. *Write calls per delivered message* (below) are the "
        "server's `write`/`writev` system calls over the step (`syscw` in `/proc/<pid>/io`, its "
        "log file's included) divided by the messages delivered: under 1 when a server sends "
        "several messages in one call. Each call is also the kernel's loopback delivery of what it "
        "carries, so fewer calls is less CPU for the same messages.",
        "",
    ]
    lines += _table(["offered msg/s", *SERVERS], rows)
    lines += _table(
        ["", *SERVERS],
        [
            ["highest rate sustained (median)", *[_fmt(best[s], 0) for s in SERVERS]],
            [
                "highest rate sustained with the generator not the bottleneck (median)",
                *[_fmt(_unbound_best(relay.get(s, [])), 0) for s in SERVERS],
            ],
            [
                "highest rate with the server's core under 90 % busy (median)",
                *[
                    _fmt(
                        max(
                            (
                                r
                                for r, m in medians[s].items()
                                # a step that failed (a server that stopped delivering also
                                # stops using CPU) says nothing about its core
                                if m["server_cpu_share"] < SATURATED and m["sustained"] >= 0.5
                            ),
                            default=math.nan,
                        ),
                        0,
                    )
                    for s in SERVERS
                ],
            ],
            [
                f"server CPU µs/msg at {_fmt(reference, 0)} msg/s",
                *[_fmt(cpu[s], 1) for s in SERVERS],
            ],
            *_writes_rows(
                medians, [min(rates, default=math.nan), reference, sustained_by_all, best["ours"]]
            ),
        ],
    )
    if step_ratios:
        lines.append(
            "CPU per message, ours ÷ the cheaper peer, at each of the "
            f"{len(step_ratios)} rates where no server's core was saturated "
            f"({_fmt(min(unsaturated), 0)} to {_fmt(max(unsaturated), 0)} msg/s): "
            + ", ".join(f"{r:.2f}" for r in step_ratios)
            + f" (median {median(step_ratios):.2f})."
        )
        pairs = list(zip(unsaturated, step_ratios, strict=True))
        clearly = [(rate, r) for rate, r in pairs if r > 1.05]
        slightly = [(rate, r) for rate, r in pairs if 1.005 < r <= 1.05]

        def listed(steps: list[tuple[float, float]]) -> str:
            return ", ".join(f"{_fmt(rate, 0)} ({r:.2f}x)" for rate, r in steps)

        if clearly or slightly:
            parts = []
            if clearly:
                parts.append(f"by more than 5 % at {listed(clearly)} msg/s")
            if slightly:
                parts.append(f"by 5 % or less at {listed(slightly)} msg/s")
            lines.append(
                "Ours used more CPU per message than the cheaper peer "
                + " and ".join(parts)
                + ". "
                + _spread_text(relay, [rate for rate, _ in clearly + slightly])
            )
        lines.append("")
    lines += _relay_reading(best, medians, rates)
    lines.append(
        _plot(
            "relay-p99",
            lambda ax: (
                [
                    ax.plot(
                        list(medians[s]),
                        [m["p99_ms"] for m in medians[s].values()],
                        marker="o",
                        label=s,
                    )
                    for s in SERVERS
                ],
                ax.axhline(50, color="grey", linestyle="--", linewidth=1),
                ax.set_yscale("log"),
                ax.set_xlabel("offered messages/s"),
                ax.set_ylabel("p99 latency, ms (log)"),
            ),
        )
    )
    lines.append(
        _plot(
            "relay-cpu",
            lambda ax: (
                [
                    ax.plot(
                        list(medians[s]),
                        [m["server_cpu_us_per_msg"] for m in medians[s].values()],
                        marker="o",
                        label=s,
                    )
                    for s in SERVERS
                ],
                ax.set_xlabel("offered messages/s"),
                ax.set_ylabel("server CPU per message, µs"),
            ),
        )
    )
    lines.append("")
    ratio, best_peer = _ratio(best["ours"], [best[p] for p in PEERS], higher_is_better=True)
    summary.append(
        [
            "directed relay: highest rate with p99 ≤ 50 ms",
            f"{_fmt(best['ours'], 0)} msg/s",
            f"{best_peer} msg/s",
            _fmt(ratio, 2),
            "≥ 1.0",
            _met(ratio, 1.0, lower=False),
        ]
    )
    unbound = {server: _unbound_best(relay.get(server, [])) for server in SERVERS}
    ratio, best_peer = _ratio(unbound["ours"], [unbound[p] for p in PEERS], higher_is_better=True)
    summary.append(
        [
            "directed relay: highest rate with p99 ≤ 50 ms, counting only steps where the "
            "generator had CPU to spare",
            f"{_fmt(unbound['ours'], 0)} msg/s",
            f"{best_peer} msg/s",
            _fmt(ratio, 2),
            "≥ 1.0",
            _met(ratio, 1.0, lower=False),
        ]
    )
    ratio, best_peer = _ratio(cpu["ours"], [cpu[p] for p in PEERS], higher_is_better=False)
    summary.append(
        [
            f"server CPU per relayed message at {_fmt(reference, 0)} msg/s",
            f"{_fmt(cpu['ours'])} µs",
            f"{best_peer} µs",
            _fmt(ratio, 2),
            "≤ 1.0",
            _met(ratio, 1.0, lower=True),
        ]
    )
    return lines


def _cpu_range(runs: Runs, rate: float) -> tuple[float, float]:
    """The lowest and highest CPU per message of ``runs`` at one step."""
    values = [
        step["server_cpu_us_per_msg"]
        for run in _ok(runs)
        for step in run["steps"]
        if step["offered_per_s"] == rate
    ]
    return (min(values), max(values)) if values else (math.nan, math.nan)


def _spread_text(relay: dict[str, Runs], rates: list[float]) -> str:
    """Whether, at each of ``rates``, the runs of ours and of the cheaper peer overlap: if they
    do, the excess is within what one server's runs differ by on this host."""
    overlapping: list[str] = []
    apart: list[str] = []
    for rate in rates:
        ours = _cpu_range(relay.get("ours", []), rate)
        peer = min(PEERS, key=lambda p: median([*_cpu_range(relay.get(p, []), rate)]))
        theirs = _cpu_range(relay.get(peer, []), rate)
        cell = (
            f"{_fmt(rate, 0)} (ours {_fmt(ours[0])}-{_fmt(ours[1])} µs, "
            f"{peer} {_fmt(theirs[0])}-{_fmt(theirs[1])} µs)"
        )
        (overlapping if ours[0] <= theirs[1] else apart).append(cell)
    text = []
    if overlapping:
        text.append(
            "At " + ", ".join(overlapping) + " msg/s the runs of the two overlap: the excess is "
            "within what one server's own runs differ by on this host."
        )
    if apart:
        text.append(
            "At " + ", ".join(apart) + " msg/s every run of ours cost more than every run of "
            "the cheaper peer."
        )
    text.append("The instruction counts below compare the servers at low rates without the host.")
    return " ".join(text)


def _unbound_best(runs: Runs) -> float:
    """Per run, the highest step sustained while the generator still had CPU to spare."""
    return median(
        [
            max(
                (
                    s["offered_per_s"]
                    for s in run["steps"]
                    if s["sustained"] and not s["generator_bound"]
                ),
                default=0.0,
            )
            for run in _ok(runs)
        ]
    )


def _relay_reading(
    best: dict[str, float], medians: dict[str, dict[float, dict[str, float]]], rates: list[float]
) -> list[str]:
    """How to read the sustained rates of this run: say where the generator, not a server, ran
    out."""
    top = max(rates) if rates else math.nan
    at_top = [s for s in SERVERS if best.get(s) == top]
    gen_bound = [
        f"{s} at {rate:,.0f}"
        for s in SERVERS
        for rate, m in medians[s].items()
        if m["generator_bound"] >= 0.5
    ]
    text = []
    if at_top:
        text.append(
            f"{' and '.join(at_top)} sustained the top step of the ladder ({top:,.0f} msg/s): "
            "the generator, one asyncio process on one core, cannot offer more, so for "
            f"{'them' if len(at_top) > 1 else 'it'} the sustained rate is a lower bound and a "
            "ratio between such servers compares the generator, not the servers."
        )
    if gen_bound:
        text.append(f"Generator-bound steps (median of runs): {', '.join(gen_bound)}.")
    text.append(
        "CPU per message falls as the rate rises (more frames per read and per loop turn). Once "
        "a server's core is saturated it keeps up by reading ever more frames per wake-up, and "
        "its CPU per message is then simply one core divided by the rate, the same for every "
        "server: that is why the comparison row above is taken at the highest rate every "
        "server sustained with its core under 90 % busy."
    )
    return [" ".join(text), ""]


def _cluster_section(cluster: Runs, relay: dict[str, Runs]) -> list[str]:
    """Ours as several instances on one Redis beside ours alone, same relay ladder."""
    if not _ok(cluster):
        return []
    many = relay_medians(cluster)
    one = relay_medians(relay.get("ours", []))
    instances = _ok(cluster)[0].get("instances", "?")
    rows = []
    for rate, m in many.items():
        single = one.get(rate)
        rows.append(
            [
                f"{rate:,.0f}",
                f"{_fmt(m['p50_ms'], 2)} / {_fmt(m['p99_ms'], 1)} ms, "
                f"{_fmt(m['server_cpu_us_per_msg'])} µs [{m['runs']:.0f}]",
                (
                    f"{_fmt(single['p50_ms'], 2)} / {_fmt(single['p99_ms'], 1)} ms, "
                    f"{_fmt(single['server_cpu_us_per_msg'])} µs"
                    if single
                    else NA
                ),
            ]
        )
    best_many = _median_of(cluster, "max_sustained_per_s")
    best_one = _median_of(relay.get("ours", []), "max_sustained_per_s")
    lines = [
        "## Several instances (Redis)",
        "",
        f"Ours only (neither peer server runs as several instances): {instances} instances with "
        "`--broker redis://…` on one private `redis-server`, every one of these processes pinned "
        "to the same server core a single server gets. The directed-relay ladder above, with the "
        "two peers of every pair on different instances, so every message goes instance → Redis "
        "pub/sub → instance. CPU per message is summed over the instances and Redis. Cells: p50 / "
        "p99, CPU per message, `[n]` runs.",
        "",
    ]
    lines += _table(["offered msg/s", "across instances", "one instance (above)"], rows)
    lines += _table(
        ["", "across instances", "one instance"],
        [["highest rate sustained (median)", _fmt(best_many, 0), _fmt(best_one, 0)]],
    )
    lines.append(
        _plot(
            "cluster-cpu",
            lambda ax: (
                ax.plot(
                    list(many),
                    [m["server_cpu_us_per_msg"] for m in many.values()],
                    marker="o",
                    label=f"{instances} instances + Redis",
                ),
                ax.plot(
                    list(one),
                    [m["server_cpu_us_per_msg"] for m in one.values()],
                    marker="o",
                    label="one instance",
                ),
                ax.set_xlabel("offered messages/s"),
                ax.set_ylabel("CPU per message, µs (all processes)"),
            ),
        )
    )
    lines.append("")
    return lines


def _storm_section(
    work: dict[str, Any], plan: dict[str, Any], summary: list[list[str]]
) -> list[str]:
    sizes = [size for size in plan.get("storm_sizes", []) if f"storm{size}" in work]
    if not sizes:
        return []
    rate = {
        s: [_median_of(work[f"storm{z}"].get(s, []), "joins_per_s") for z in sizes] for s in SERVERS
    }
    p99 = {
        s: [_median_of(work[f"storm{z}"].get(s, []), "join_p99_ms") for z in sizes] for s in SERVERS
    }
    cpu = {
        s: [_median_of(work[f"storm{z}"].get(s, []), "server_cpu_us_per_join") for z in sizes]
        for s in SERVERS
    }
    rows = [
        [
            str(size),
            *[
                f"{_fmt(rate[s][i], 0)} /s, p99 {_fmt(p99[s][i])} ms, {_fmt(cpu[s][i], 0)} µs"
                for s in SERVERS
            ],
        ]
        for i, size in enumerate(sizes)
    ]
    lines = [
        "## Join storm",
        "",
        f"{plan.get('storm_peers')} peers join rooms of each size, 128 joins in flight. Time to "
        "*welcome*: ours until `welcome` (tickets minted beforehand, verified by the server); "
        "PeerJS until `OPEN`; y-webrtc, which acknowledges nothing, until the client's own "
        "`announce` published to the room comes back (a y-webrtc client announces itself right "
        "after subscribing, so this includes the fan-out to the room). PeerJS has no rooms: its "
        "figure is the same connect for every size.",
        "",
        "Cells: joins per second over the storm, p99 time to welcome, server CPU per join.",
        "",
    ]
    lines += _table(["room size", *SERVERS], rows)
    lines.append(
        _plot(
            "storm-joins",
            lambda ax: _bars(ax, [str(z) for z in sizes], rate, "joins/s (room size on x)"),
        )
    )
    lines.append("")
    for i, size in enumerate(sizes):
        ratio, best = _ratio(rate["ours"][i], [rate[p][i] for p in PEERS], higher_is_better=True)
        summary.append(
            [
                f"join storm, rooms of {size}: joins/s",
                _fmt(rate["ours"][i], 0),
                best,
                _fmt(ratio, 2),
                "(none)",
                "",
            ]
        )
    return lines


def _fan_out_section(fan: dict[str, Runs], summary: list[list[str]]) -> list[str]:
    if not fan:
        return []
    rate = {s: _median_of(fan.get(s, []), "deliveries_per_s") for s in SERVERS}
    p99 = {s: _median_of(fan.get(s, []), "event_p99_ms") for s in SERVERS}
    cpu = {s: _median_of(fan.get(s, []), "server_cpu_us_per_delivery") for s in SERVERS}
    server_share = {s: _median_of(fan.get(s, []), "server_cpu_share") for s in SERVERS}
    generator_share = {s: _median_of(fan.get(s, []), "generator_cpu_share") for s in SERVERS}
    sample = _ok(fan.get("ours", []))
    room = sample[0]["room_size"] if sample else 50
    events = f"{sample[0]['events']:,}" if sample else "?"
    window = sample[0]["window"] if sample else "?"
    lines = [
        "## Room fan-out",
        "",
        f"{events} events to every member of one room of {room}, at most {window} "
        "events in flight for every server (each event is sent by its own task, so a hook "
        "`POST` waiting for its `202` does not hold back the next); an event is done when all "
        "members have it. Ours: one `POST /hooks/board` per event with a "
        "hook token (minted by the generator per request, as the board does); y-webrtc: one "
        "`publish` to the room's topic from a client outside it; **PeerJS has no rooms**: emulated "
        f"with {room} addressed messages per event from one client, as a PeerJS app would have to.",
        "",
    ]
    lines += _table(
        ["", *SERVERS],
        [
            ["deliveries/s", *[_fmt(rate[s], 0) for s in SERVERS]],
            ["event → last delivery p99, ms", *[_fmt(p99[s]) for s in SERVERS]],
            ["server CPU per delivery, µs", *[_fmt(cpu[s]) for s in SERVERS]],
            [
                "one core ÷ CPU per delivery (deliveries/s)",
                *[_fmt(1e6 / cpu[s], 0) if cpu[s] else NA for s in SERVERS],
            ],
            ["server core busy (share)", *[_fmt(server_share[s], 2) for s in SERVERS]],
            ["generator core busy (share)", *[_fmt(generator_share[s], 2) for s in SERVERS]],
        ],
    )
    lines += [
        "Where the generator's core is nearly full and the server's is not, the deliveries/s "
        "row measures the generator (for ours, an HTTP request per event costs the generator "
        "more than a websocket `publish`); the CPU rows compare the servers.",
        "",
    ]
    lines.append(
        _plot(
            "fan-out",
            lambda ax: _bars(ax, ["deliveries/s"], {s: [rate[s]] for s in SERVERS}, "deliveries/s"),
        )
    )
    lines.append("")
    ratio, best = _ratio(rate["ours"], [rate[p] for p in PEERS], higher_is_better=True)
    summary.append(
        [
            f"fan-out to a room of {room}: deliveries/s",
            _fmt(rate["ours"], 0),
            best,
            _fmt(ratio, 2),
            "(none)",
            "",
        ]
    )
    return lines


def _p2p_section(p2p: dict[str, Any] | None) -> list[str]:
    lines = ["## The peer-to-peer path", ""]
    if not p2p:
        return [*lines, "Not measured in this run (`make -C bench p2p`).", ""]
    cases = p2p["cases"]
    lines += [
        "A drag-like event (`{type:'drag', task, column, x, y, seq, t}`) from a headless Chromium "
        "tab to another tab over their RTCDataChannel, and from a tab to an aiortc peer, against "
        "the same event sent through our signaling websocket (`relay`, our server, same "
        "machine). The far side echoes it over the path it came by; the sender times the "
        "round trip on its own clock and one way is taken as half (Chromium coarsens "
        "`performance.now()` to 0.1 ms on a page that is not cross-origin isolated, which bounds "
        "the resolution). "
        f"{p2p['rounds']} rounds of {p2p['samples_per_round']} events each (after 20 warm-up "
        "events), medians of the rounds' percentiles; loopback-only network namespace.",
        "",
    ]
    rows = [
        [
            name,
            _fmt(c["median_p50_ms"], 3),
            _fmt(c["median_p99_ms"], 3),
            _fmt(c["median_one_way_p50_ms"], 3),
            _fmt(c["median_one_way_p99_ms"], 3),
        ]
        for name, c in cases.items()
    ]
    lines += _table(["path", "RTT p50 ms", "RTT p99 ms", "one way p50 ms", "one way p99 ms"], rows)
    names = list(cases)
    lines.append(
        _plot(
            "p2p",
            lambda ax: (
                ax.barh(
                    names, [cases[n]["median_one_way_p50_ms"] for n in names], label="one way p50"
                ),
                ax.set_xlabel("ms"),
            ),
        )
    )
    lines.append("")
    return lines


def _thin_margin(ratio: str, spread: float = 0.05) -> bool:
    """A ratio cell (``"0.97"``) within ``spread`` of 1: no better than a tie on this machine."""
    try:
        return abs(float(ratio) - 1) <= spread
    except ValueError:
        return False


def _targets_text(summary: list[list[str]]) -> list[str]:
    missed = [row for row in summary if row[5].startswith("no")]
    if not missed:
        if not any(row[5] == "yes" for row in summary):
            return ["", ""]
        lines = ["Every target with a number was met in this run."]
        thin = [row for row in summary if row[5] == "yes" and _thin_margin(row[3])]
        if thin:
            lines += ["", "Met by a margin within the run-to-run spread (read these as ties):", ""]
            lines += [f"- {row[0]}: ours {row[1]}, best peer {row[2]} ({row[3]})." for row in thin]
        return [*lines, ""]
    lines = ["### Targets not reached, and why", ""]
    for row in missed:
        why = ""
        if "held" in row[0]:
            why = (
                "Some connections were refused or closed before the hold ended: see Idle "
                "connections (failures and their first messages are in the results JSON)."
            )
        elif "instructions" in row[0]:
            why = (
                "See *Instructions per relayed message* below: each server's runs, whether "
                "ours and the best peer's overlap, and the count with the step's fixed work."
            )
        elif "relay" in row[0] or "relayed" in row[0]:
            why = "Profile our server under the relay load to see where its CPU goes."
        elif "memory" in row[0] or "held" in row[0]:
            why = (
                "Per idle connection we hold the uvloop transport, aiohttp's frame reader, our "
                "connection, client and member objects and a rate-limit bucket."
            )
        lines.append(f"- **{row[0]}**: {row[5]} (ours {row[1]}, best peer {row[2]}). {why}")
    lines.append("")
    return lines
