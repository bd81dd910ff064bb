"""Write ``docs/benchmarks.md`` and its plots from the results JSON (with ``p2p.json`` and
``instructions.json`` beside it, when present).

Each section is one function that returns its lines and adds its rows to the summary; the history
section (``## History`` on) of the document replaced is kept as it was. Medians are over the runs;
ratios are ours over the best peer server (and over ours-before, when a baseline ran). This module
reads JSON only: it must not measure, or import what does.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

from bench.servers import BASELINE, OUR_FLAGS, PEERS, ROOT, SERVER_NAMES
from bench.stats import median

DOC: Final = ROOT / "docs" / "benchmarks.md"
HISTORY: Final = "## History"
NA: Final = "n/a"
NAN: Final = math.nan
SATURATED: Final = 0.9  # a server core busier than this (median) counts as saturated
ORDER: Final = ("ours", BASELINE, *PEERS)

Runs = list[dict[str, Any]]
Medians = dict[float, dict[str, float]]  # per offered rate (or level): figure -> median


@dataclass
class Report:
    """What every section reads (the results) and adds to (the summary rows)."""

    results: dict[str, Any]
    plots: Path  # the folder beside the document, named after it
    baseline: str | None = None
    rows: list[list[str]] = field(default_factory=list)

    @property
    def work(self) -> dict[str, dict[str, Runs]]:
        return dict(self.results["workloads"])

    @property
    def servers(self) -> list[str]:
        """The servers that ran, in the report's order."""
        ran = {server for by_server in self.work.values() for server in by_server}
        return [server for server in ORDER if server in ran]

    def header(self) -> list[str]:
        columns = ["figure", "ours", "best peer", "ours ÷ best peer", "target", "met?"]
        if self.baseline:
            columns += [f"ours-before (`{self.baseline}`)", "ours ÷ ours-before"]
        return columns

    def add(self, row: list[str]) -> None:
        self.rows.append(row + [""] * (len(self.header()) - len(row)))

    def compare(
        self,
        figure: str,
        values: dict[str, float],
        *,
        unit: str = "",
        lower: bool = False,
        target: bool = True,
        digits: int = 0,
    ) -> None:
        """A summary row: ours against the best peer (and against ours-before)."""
        ours = values.get("ours", NAN)
        peers = [values[p] for p in PEERS if not math.isnan(values.get(p, NAN))]
        best = (min if lower else max)(peers) if peers else NAN
        ratio = ours / best if best else NAN
        row = [figure, cell(ours, digits, unit), cell(best, digits, unit), fmt(ratio, 2)]
        row += [("≤ 1.0" if lower else "≥ 1.0"), met(ratio, lower)] if target else ["(none)", ""]
        if self.baseline:
            before = values.get(BASELINE, NAN)
            row += [cell(before, digits, unit), fmt(ours / before if before else NAN, 2)]
        self.rows.append(row)

    def row(self, label: str, values: Mapping[str, float], digits: int = 1) -> list[str]:
        """A table row: ``label``, then each server's value."""
        return [label, *(fmt(values.get(s, NAN), digits) for s in self.servers)]


# Each plot's axis labels; the plot is drawn as grouped bars when its xs are labels.
AXES: Final = {
    "idle-memory": ("idle connections", "server PSS per connection, KiB"),
    "relay-p99": ("offered messages/s", "p99 latency, ms (log)"),
    "relay-cpu": ("offered messages/s", "server CPU per message, µs"),
    "storm-joins": ("room size", "joins/s"),
    "fan-out": ("", "deliveries/s"),
    "cluster-cpu": ("offered messages/s", "CPU per message, µs (all processes)"),
    "p2p": ("", "ms"),
}


def plot(
    report: Report,
    name: str,
    xs: Sequence[Any],
    series: Mapping[str, Sequence[float]],
    log: bool = False,
    limit: float | None = None,
) -> str:
    """Draw ``series`` (label → y per x) as lines, or as grouped bars over labels ``xs``;
    return the Markdown that shows the plot."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    report.plots.mkdir(parents=True, exist_ok=True)
    figure, axes = plt.subplots(figsize=(6.4, 3.8), dpi=100)
    width = 0.8 / max(len(series), 1)
    bars = bool(xs) and isinstance(xs[0], str)
    for offset, (label, ys) in enumerate(series.items()):
        if bars:
            at = [i + offset * width for i in range(len(xs))]
            axes.bar(at, [0 if math.isnan(y) else y for y in ys], width, label=label)
        else:
            axes.plot(xs, ys, marker="o", label=label)
    if bars:
        axes.set_xticks([i + width * (len(series) - 1) / 2 for i in range(len(xs))], xs)
    if limit is not None:
        axes.axhline(limit, color="grey", linestyle="--", linewidth=1)
    if log:
        axes.set_yscale("log")
    axes.set_xlabel(AXES[name][0])
    axes.set_ylabel(AXES[name][1])
    axes.grid(True, alpha=0.3)
    axes.legend()
    figure.tight_layout()
    figure.savefig(report.plots / f"{name}.png")
    plt.close(figure)
    return f"![{name}]({report.plots.name}/{name}.png)"


# --- formatting ---------------------------------------------------------------------------------


def fmt(value: float | None, digits: int = 1) -> str:
    if value is None or math.isnan(value):
        return NA
    return f"{value:,.0f}" if abs(value) >= 1000 else f"{value:.{digits}f}"


def cell(value: float, digits: int, unit: str) -> str:
    text = fmt(value, digits)
    return text if text == NA or not unit else f"{text} {unit}"


def met(ratio: float, lower: bool) -> str:
    """Whether ours ÷ the best peer meets the target (≤ 1 when lower is better, else ≥ 1)."""
    if math.isnan(ratio):
        return NA
    if ratio <= 1 if lower else ratio >= 1:
        return "yes"
    return f"no ({abs(ratio - 1):.0%} {'over' if lower else 'short'})"


def table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    return [*lines, *("| " + " | ".join(row) + " |" for row in rows), ""]


def ok(runs: Runs) -> Runs:
    return [run for run in runs if "error" not in run]


def median_of(runs: Runs, key: str) -> float:
    return median([float(run[key]) for run in ok(runs) if key in run])


def step_medians(runs: Runs, by: str, keys: Sequence[str]) -> Medians:
    """Per value of ``by`` over the runs' steps: each key's median, and how many runs got there
    (``runs``)."""
    slots: dict[float, dict[str, list[float]]] = {}
    for run in ok(runs):
        for step in run["steps"]:
            slot = slots.setdefault(step[by], {"runs": []})
            slot["runs"].append(1.0)
            for key in keys:
                if key in step:
                    slot.setdefault(key, []).append(float(step[key]))
    return {
        at: {k: (sum(v) if k == "runs" else median(v)) for k, v in slot.items()}
        for at, slot in sorted(slots.items())
    }


# --- sections -----------------------------------------------------------------------------------


def header(report: Report, p2p: dict[str, Any] | None) -> list[str]:
    results, machine = report.results, report.results["machine"]
    versions = [[name, str(version)] for name, version in machine["versions"].items()]
    if p2p:
        versions.append(["chromium", p2p.get("chromium", "?")])
    dirty = machine.get("signaling_changes_uncommitted")
    lines = [
        "# Benchmarks: our signaling server beside y-webrtc's and PeerJS's",
        "",
        "Generated by `python -m bench report` from the results `make bench` writes (to the "
        "ignored `bench/results/`); do not edit above the history section by hand.",
        "",
        f"- Measured {results.get('started', '?')} to {results.get('finished', '?')}, revision "
        f"`{machine.get('revision', '?')}`{' with changes in signaling/' if dirty else ''}.",
        f"- Machine: {machine['nproc']} cores ({machine['cpu_model']}), {machine['memory_gib']} "
        f"GiB, Linux {machine['kernel']}, open-file limit {machine['fd_limit']}.",
        f"- Load average (1/5/15 min) at start {results.get('load_average_start')}, at end "
        f"{results.get('load_average_end')}: other engineers test on this machine, so every "
        "figure was taken beside their load.",
        f"- CPU: {results['cpu_sharing']}; nice {results.get('nice', 0)} for servers and "
        "generator alike. Everything ran in a loopback-only network namespace "
        "(`tools/in_netns.sh`).",
        f"- Runs per workload: {results['plan']['runs']}, interleaved (run 1 of every server, then "
        "run 2, ...), each on a freshly started server; figures are medians over the runs.",
        f"- Our server ran with `{' '.join(OUR_FLAGS)}` so its per-connection rate limits never "
        "throttle the load, with its default logging (human format, INFO, to a file) and "
        "heartbeats (20 s).",
        "- The generator is one asyncio process on uvloop with a lean websocket client "
        "(`bench/wsclient.py`) speaking each server's own protocol (`bench/adapters.py`); where "
        "it ran out of CPU before the server, a step is marked *generator-bound*.",
    ]
    if report.baseline:
        lines.append(
            f"- **ours-before** is our server at `{report.baseline}`: that revision's "
            "`signaling/`, exported with `git archive`, run with this checkout's dependencies and "
            "flags as one more server in the same interleaved runs."
        )
    return [*lines, "", *table(["software", "version"], versions)]


def idle_section(report: Report) -> list[str]:
    idle, servers = report.work.get("idle", {}), report.servers
    if not idle:
        return []
    keys = ("pss_per_conn_bytes", "connect_rate_per_s", "connected")
    medians = {s: step_medians(idle.get(s, []), "level", keys) for s in servers}
    levels = sorted({level for m in medians.values() for level in m})
    top = levels[-1]

    def at(server: str, level: float, key: str = "pss_per_conn_bytes") -> float:
        value = medians[server].get(level, {}).get(key, NAN)
        return value / 1024 if key == "pss_per_conn_bytes" else value

    rows = [
        [f"{lv:,}", *(f"{fmt(at(s, lv))} KiB, {fmt(at(s, lv, keys[1]), 0)}/s" for s in servers)]
        for lv in levels
    ]
    held = {
        s: ", ".join(
            f"{run['held_open']:,}/{run['steps'][-1]['connected']:,}"
            for run in ok(idle.get(s, []))
            if run.get("steps")
        )
        for s in servers
    }
    lines = [
        "## Idle connections",
        "",
        "Clients connect in steps (rooms of two; ours: websocket + `join` with a ticket until "
        "`welcome`; y-webrtc: `subscribe` + announce echo; PeerJS: until `OPEN`), 128 at a time. "
        "Cells: the server's PSS (`/proc/<pid>/smaps_rollup`) above its idle baseline per "
        "connection held, and that step's connect rate (the generator's as much as the "
        "server's: only a rate below the others' says something about a server).",
        "",
    ]
    capped = top < max(report.results["plan"].get("idle_levels", [top]))
    if capped:
        lines += [
            f"The top level is {top:,}: the open-file limit here is "
            f"{report.results['machine']['fd_limit']:,} per process, and the generator and each "
            "server are one process each. 20,000 is held by ours as two processes, below.",
            "",
        ]
    hold = median_of(idle.get("ours", []), "hold_seconds")
    heartbeats = ": longer than 2.5 heartbeat intervals, so all held answered pings"
    lines += [
        *table(["connections", *servers], rows),
        f"Held open after the hold at the top level ({fmt(hold, 0)} s for ours"
        f"{heartbeats if hold >= 50 else ''}): "
        + "; ".join(f"{s}: {held[s] or NA}" for s in servers),
        "",
        plot(report, "idle-memory", levels, {s: [at(s, lv) for lv in levels] for s in servers}),
        "",
    ]
    memory = {s: at(s, top) for s in servers}
    figure = f"memory per idle connection at {top:,} (PSS)"
    report.compare(figure, memory, unit="KiB", lower=True, digits=1)
    runs = ok(idle.get("ours", []))
    all_held = bool(runs) and all(
        run["held_open"] == run["steps"][-1]["connected"] == top for run in runs
    )
    held_text = "yes" if all_held else "no"
    if top >= 20000:
        report.add(
            [f"{top:,} idle connections held (ours)", held_text, "", "", "20k held", held_text]
        )
    else:  # the 20k target is then judged on the shared-port runs
        most = " (the most one process may open here)" if capped else ""
        figure = f"{top:,} idle connections held by one process (ours)"
        report.add([figure, held_text, "", "", f"all held{most}", held_text])
    return lines


def shared_idle_section(report: Report) -> list[str]:
    runs = report.work.get("idle-shared", {}).get("ours", [])
    done = [run for run in ok(runs) if run.get("connected")]
    if not done:
        return []
    level, processes = int(done[0]["level"]), done[0]["server_processes"]

    def plus(numbers: Sequence[int]) -> str:
        return " + ".join(f"{n:,}" for n in numbers)

    rows = [
        [
            f"{index + 1}",
            f"{run['connected']:,} ({plus(run['per_shard_connected'])})",
            plus(run["per_instance_connections"]),
            f"{run['held_open']:,}",
            fmt(run["connect_rate_per_s"], 0),
            fmt(run["pss_per_conn_bytes"] / 1024),
            fmt(run["pss_per_conn_with_broker_bytes"] / 1024),
        ]
        for index, run in enumerate(done)
    ]
    held = sum(run["held_open"] == level for run in done)
    report.add(
        [
            f"{level:,} idle connections held (ours, {processes} processes on one port)",
            f"{held}/{len(runs)} runs",
            *("", "", "20k held"),
            "yes" if held == len(runs) and level >= 20000 else "no",
        ]
    )
    columns = ("run", "connected (per generator process)", "per instance", "held", "conn/s")
    return [
        f"### {level:,} idle connections: ours as {processes} processes on one port",
        "",
        "Ours as several instances on one port (`--reuse-port`: the kernel spreads new "
        "connections among them; one private Redis as `--broker`; instances and Redis all on "
        "the one server core), the deployment `docs/operations.md` describes for using more "
        f"than one core; the generator opens the clients from {done[0]['generator_processes']} "
        "processes. Neither peer server runs as several processes. Held: still open after "
        f"{fmt(median_of(done, 'hold_seconds'), 0)} s. Memory: the instances' PSS growth per "
        "connection, and with Redis's growth added.",
        "",
        *table([*columns, "KiB/conn (PSS)", "KiB/conn with Redis"], rows),
    ]


RELAY_KEYS: Final = (
    *("p50_ms", "p99_ms", "server_cpu_us_per_msg", "server_cpu_share", "sustained"),
    *("server_writes_per_msg", "generator_bound"),
)


def relay_medians(runs: Runs) -> Medians:
    """Per offered rate: the medians of each step figure, and how many runs got there."""
    return step_medians(runs, "offered_per_s", RELAY_KEYS)


def unbound_best(runs: Runs) -> float:
    """Per run, the highest step sustained while the generator still had CPU to spare."""
    steps = [
        [s for s in run["steps"] if s["sustained"] and not s["generator_bound"]] for run in ok(runs)
    ]
    return median([max((s["offered_per_s"] for s in run), default=0.0) for run in steps])


def reference_rate(
    medians: dict[str, Medians], best: dict[str, float]
) -> tuple[float, list[float]]:
    """The rate CPU per message is compared at: the highest that every server (not ours-before)
    sustained with no server's core saturated, and every such rate. A saturated server reads more
    frames per wake-up, so its CPU per message is one core divided by the rate, whoever it is."""
    compared = [s for s in SERVER_NAMES if s in medians]
    sustained_by_all = min((best[s] for s in compared if best[s] > 0), default=NAN)
    unsaturated = [
        rate
        for rate in sorted({r for s in compared for r in medians[s]})
        if rate <= sustained_by_all
        and all(medians[s].get(rate, {}).get("server_cpu_share", 1.0) < SATURATED for s in compared)
    ]
    return max(unsaturated, default=sustained_by_all), unsaturated


def step_cell(m: dict[str, float] | None, runs: bool = True) -> str:
    """One relay step's medians: p50 / p99, CPU per message, generator-bound, runs there."""
    if m is None:
        return NA
    bound = " (gen)" if m.get("generator_bound", 0) >= 0.5 else ""
    text = f"{fmt(m['p50_ms'], 2)} / {fmt(m['p99_ms'], 1)} ms, {fmt(m['server_cpu_us_per_msg'])}"
    return f"{text} µs{bound}" + (f" [{m['runs']:.0f}]" if runs else "")


def relay_section(report: Report) -> list[str]:
    relay, servers = report.work.get("relay", {}), report.servers
    if not relay:
        return []
    medians = {s: relay_medians(relay.get(s, [])) for s in servers}
    best = {s: median_of(relay.get(s, []), "max_sustained_per_s") for s in servers}
    unbound = {s: unbound_best(relay.get(s, [])) for s in servers}
    rates = sorted({rate for m in medians.values() for rate in m})
    reference, unsaturated = reference_rate(medians, best)

    def at(rate: float, key: str = "server_cpu_us_per_msg") -> dict[str, float]:
        return {s: medians[s].get(rate, {}).get(key, NAN) for s in servers}

    runs = ok(relay.get("ours", []))
    writes_at = sorted({r for r in (rates[0], reference, best["ours"]) if not math.isnan(r)})
    lines = [
        "## Directed relay",
        "",
        f"{runs[0]['rooms'] if runs else '?'} rooms of two peers; each message (~200 bytes, an ICE "
        "candidate plus a timestamp) goes from one peer to the other, round-robin over the pairs, "
        "alternating direction. Ours: `signal` to a peer id (logged at INFO, as in production); "
        "PeerJS: `CANDIDATE` with `dst`; y-webrtc: `publish` to the other peer's own topic (its "
        "best case). A step is *sustained* when p99 ≤ 50 ms and ≥ 99 % arrived; the ladder stops "
        "after two failed steps in a row. Latency is send → arrival on the generator's clock.",
        "",
        "Cells: p50 / p99 latency, server CPU per delivered message (utime+stime from "
        "`/proc/<pid>/stat` over the step), `(gen)` when the generator was the bottleneck, `[n]` "
        "runs that reached the step.",
        "",
        *table(
            ["offered msg/s", *servers],
            [[fmt(r, 0), *(step_cell(medians[s].get(r)) for s in servers)] for r in rates],
        ),
        *table(
            ["", *servers],
            [
                report.row("highest rate sustained (median)", best, 0),
                report.row("… with the generator not the bottleneck", unbound, 0),
                report.row(f"server CPU µs/msg at {fmt(reference, 0)} msg/s", at(reference)),
                *(
                    report.row(
                        f"server write calls per message at {fmt(r, 0)} msg/s",
                        at(r, "server_writes_per_msg"),
                        2,
                    )
                    for r in writes_at
                ),
            ],
        ),
    ]
    if unsaturated and all(p in medians for p in PEERS):
        ratios = [at(r)["ours"] / min(at(r)[p] for p in PEERS) for r in unsaturated]
        lines += [
            "CPU per message, ours ÷ the cheaper peer, at each rate where no server's core was "
            f"saturated ({fmt(unsaturated[0], 0)} to {fmt(unsaturated[-1], 0)} msg/s): "
            + ", ".join(f"{r:.2f}" for r in ratios)
            + f" (median {median(ratios):.2f}). Write calls are the server's `write`/`writev` "
            "system calls (`syscw` in `/proc/<pid>/io`, its log's included) per message "
            "delivered: under 1 when it sends several messages in one call.",
            "",
        ]

    def series(key: str) -> dict[str, list[float]]:
        return {s: [at(r, key)[s] for r in rates] for s in servers}

    lines += [
        plot(report, "relay-p99", rates, series("p99_ms"), log=True, limit=50),
        plot(report, "relay-cpu", rates, series("server_cpu_us_per_msg")),
        "",
    ]
    report.compare("directed relay: highest rate with p99 ≤ 50 ms", best, unit="msg/s")
    report.compare(
        "directed relay: the same, counting only steps where the generator had CPU to spare",
        unbound,
        unit="msg/s",
    )
    figure = f"server CPU per relayed message at {fmt(reference, 0)} msg/s"
    report.compare(figure, at(reference), unit="µs", lower=True, digits=1)
    return lines


def instructions_section(report: Report, data: dict[str, Any] | None) -> list[str]:
    if not data:
        return []
    plan, servers = data["plan"], data["servers"]
    low, high = (fmt(rate, 0) for rate in plan["rates"])
    counted = [s for s in ORDER if s in servers]
    complete = {s: [run for run in servers[s] if run.get("complete")] for s in counted}
    per_message = {s: median([r["instructions_per_message"] for r in complete[s]]) for s in counted}
    whole = {
        s: median([r["high"]["instructions_per_message_whole_step"] for r in complete[s]])
        for s in counted
    }
    rows = []
    for s in counted:
        errors = [run["error"] for run in servers[s] if "error" in run]
        each = ", ".join(
            f"{r['instructions_per_message']:,}" + ("" if r["complete"] else " (messages lost)")
            for r in servers[s]
            if "error" not in r
        )
        rows.append([s, fmt(per_message[s], 0), errors[0] if errors else each, fmt(whole[s], 0)])
    baseline = f" (ours-before: `{data['baseline']}`)" if data.get("baseline") else ""
    if data.get("baseline") != report.baseline:  # the summary's ours-before is another revision
        per_message.pop(BASELINE, None)
    report.compare(
        f"user-space instructions per relayed message, {low} → {high} msg/s (callgrind)",
        per_message,
        lower=True,
    )
    return [
        "## Instructions per relayed message (callgrind)",
        "",
        "CPU time per message moves with this shared host's speed, which hides differences of "
        "5-20 % between servers at low rates; callgrind counts the user-space instructions a "
        "process executes, the same for the same work whatever the host is doing. Measured "
        f"{data.get('started', '?')} at revision `{data['machine'].get('revision', '?')}`"
        f"{baseline} by `make bench-instructions` ({data['machine'].get('valgrind', '?')}): "
        f"each server warmed up for {plan['warm_up_seconds']:.0f} s, then relays in "
        f"{plan['rooms']} rooms of two at {low} and at {high} msg/s for "
        f"{plan['step_seconds']:.0f} s each, counters zeroed before each step and dumped after "
        f"it, {plan['runs']} runs. *Per message*: the difference of the two counts over the "
        "difference of the messages delivered (the step's fixed work cancels out). *Whole step*: "
        f"the count at {high} msg/s over its messages. Not counted: the kernel's work.",
        "",
        *table(["server", "per message (median)", "each run", f"whole step at {high} msg/s"], rows),
    ]


def storm_section(report: Report) -> list[str]:
    work, plan, servers = report.work, report.results["plan"], report.servers
    sizes = [size for size in plan.get("storm_sizes", []) if f"storm{size}" in work]
    if not sizes:
        return []

    def figure(server: str, size: int, key: str) -> float:
        return median_of(work[f"storm{size}"].get(server, []), key)

    def joins(size: int) -> dict[str, float]:
        return {s: figure(s, size, "joins_per_s") for s in servers}

    rows = [
        [
            str(size),
            *(
                f"{fmt(figure(s, size, 'joins_per_s'), 0)}/s, "
                f"p99 {fmt(figure(s, size, 'join_p99_ms'))} ms, "
                f"{fmt(figure(s, size, 'server_cpu_us_per_join'), 0)} µs"
                for s in servers
            ),
        ]
        for size in sizes
    ]
    peers = plan.get("storm_peers")
    for size in sizes:
        report.compare(f"join storm, rooms of {size}: joins/s", joins(size), target=False)
    if 2 in sizes:
        report.compare(
            f"server CPU per new connection (upgrade, ticket check, welcome), {peers:,} opened "
            "into rooms of 2",
            {s: figure(s, 2, "server_cpu_us_per_join") for s in servers},
            unit="µs",
            lower=True,
        )
    return [
        "## Join storm",
        "",
        f"{peers:,} peers join rooms of each size, 128 joins in flight, on a fresh server. Taken "
        "in: ours at `welcome` (after the upgrade and the ticket check; tickets minted "
        "beforehand); PeerJS at `OPEN`; y-webrtc, which acknowledges nothing, when the client's "
        "own `announce` published to the room comes back (a y-webrtc client announces itself "
        "right after subscribing). PeerJS has no rooms: every size is the same connect for it. "
        "Cells: joins per second over the storm, p99 time to being taken in, the server's CPU "
        "per join (over the whole storm): in rooms of two this is the server's CPU per new "
        "connection.",
        "",
        *table(["room size", *servers], rows),
        plot(
            report,
            "storm-joins",
            [str(z) for z in sizes],
            {s: [joins(size)[s] for size in sizes] for s in servers},
        ),
        "",
    ]


def fan_out_section(report: Report) -> list[str]:
    fan, servers = report.work.get("fanout", {}), report.servers
    sample = ok(fan.get("ours", []))
    if not sample:
        return []
    room, events, window = sample[0]["room_size"], sample[0]["events"], sample[0]["window"]

    def figure(key: str) -> dict[str, float]:
        return {s: median_of(fan.get(s, []), key) for s in servers}

    rate = figure("deliveries_per_s")
    report.compare(f"fan-out to a room of {room}: deliveries/s", rate, target=False)
    rows = [
        report.row("deliveries/s", rate, 0),
        report.row("event → last delivery p99, ms", figure("event_p99_ms")),
        report.row("server CPU per delivery, µs", figure("server_cpu_us_per_delivery")),
        report.row("server core busy (share)", figure("server_cpu_share"), 2),
        report.row("generator core busy", figure("generator_cpu_share"), 2),
    ]
    return [
        "## Room fan-out",
        "",
        f"{events:,} events to every member of one room of {room}, at most {window} events in "
        "flight for every server (each sent by its own task); an event is done when all members "
        "have it. Ours: one `POST /hooks/board` per event with a hook token minted per request, "
        "as the board does; y-webrtc: one `publish` to the room's topic; PeerJS has no rooms: "
        f"{room} addressed messages per event from one client, as a PeerJS app would send. "
        "Where the generator's core is nearly full and the server's is not, deliveries/s "
        "measures the generator; the CPU rows compare the servers.",
        "",
        *table(["", *servers], rows),
        plot(report, "fan-out", ["deliveries/s"], {s: [rate[s]] for s in servers}),
        "",
    ]


def cluster_section(report: Report) -> list[str]:
    cluster = report.work.get("cluster", {}).get("ours", [])
    if not ok(cluster):
        return []
    alone = report.work.get("relay", {}).get("ours", [])
    many, one = relay_medians(cluster), relay_medians(alone)
    instances = ok(cluster)[0].get("instances", "?")
    rows = [
        [fmt(rate, 0), step_cell(m), step_cell(one.get(rate), runs=False)]
        for rate, m in many.items()
    ]
    best = {"ours": median_of(cluster, "max_sustained_per_s")}
    report.compare(
        f"directed relay across {instances} instances (Redis): highest rate with p99 ≤ 50 ms",
        best,
        unit="msg/s",
        target=False,
    )
    rates = sorted(set(many) | set(one))

    def cpu(medians: Medians) -> list[float]:
        return [medians.get(r, {}).get("server_cpu_us_per_msg", NAN) for r in rates]

    return [
        "## Several instances (Redis)",
        "",
        f"Ours only: {instances} instances with `--broker redis://…` on one private "
        "`redis-server`, all on the one server core. The relay ladder above with the two peers "
        "of every pair on different instances, so every message goes instance → Redis pub/sub "
        "→ instance; CPU per message is summed over the instances and Redis. Highest rate "
        f"sustained: {fmt(best['ours'], 0)} msg/s across instances, "
        f"{fmt(median_of(alone, 'max_sustained_per_s'), 0)} on one.",
        "",
        *table(["offered msg/s", "across instances", "one instance (above)"], rows),
        plot(
            report,
            "cluster-cpu",
            rates,
            {f"{instances} instances + Redis": cpu(many), "one instance": cpu(one)},
        ),
        "",
    ]


def p2p_section(report: Report, p2p: dict[str, Any] | None) -> list[str]:
    title = ["## The peer-to-peer path", ""]
    if not p2p:
        return [*title, "Not measured in this run (`make -C bench p2p`).", ""]
    cases = p2p["cases"]
    one_way = {name: c["median_one_way_p50_ms"] for name, c in cases.items()}
    tabs = "chromium-chromium"
    if f"{tabs} datachannel" in cases:
        report.add(
            [
                "peer to peer: a drag event tab → tab, one way p50 (data channel; through our "
                "signaling)",
                f"{fmt(one_way[f'{tabs} datachannel'], 3)} ms; "
                f"{fmt(one_way.get(f'{tabs} via signaling', NAN), 3)} ms",
                *("", "", "(none)"),
            ]
        )
    keys = ("p50_ms", "p99_ms", "one_way_p50_ms", "one_way_p99_ms")
    rows = [[name, *(fmt(c[f"median_{key}"], 3) for key in keys)] for name, c in cases.items()]
    return [
        *title,
        "A drag-like event from a headless Chromium tab to another tab over their "
        "RTCDataChannel, and from a tab to an aiortc peer, against the same event sent through "
        "our signaling websocket (`relay`). The far side echoes it back the way it came; the "
        "sender times the round trip and one way is half of it (Chromium's `performance.now()` "
        f"is coarsened to 0.1 ms here). Measured {p2p.get('measured', '?')}: "
        f"{p2p['rounds']} rounds of {p2p['samples_per_round']} events, medians of the rounds' "
        "percentiles.",
        "",
        *table(["path", "RTT p50 ms", "RTT p99 ms", "one way p50 ms", "one way p99 ms"], rows),
        plot(report, "p2p", ["one way p50"], {n: [v] for n, v in one_way.items()}),
        "",
    ]


def targets_text(report: Report) -> list[str]:
    missed = [row for row in report.rows if row[5].startswith("no")]
    if missed:
        return [
            "Targets not reached:",
            "",
            *(
                f"- **{row[0]}**: {row[5]} (ours {row[1]}"
                + (f", best peer {row[2]})." if row[2] else ").")
                for row in missed
            ),
            "",
            "To see where our server's CPU goes under a workload, sample it while the workload "
            "runs: `py-spy record --native --pid <server pid>` (`pip install py-spy`).",
            "",
        ]
    if not any(row[5] == "yes" for row in report.rows):
        return []
    thin = [
        f"- {row[0]}: ours {row[1]}, best peer {row[2]} ({row[3]})."
        for row in report.rows
        if row[5] == "yes" and row[3] not in (NA, "") and abs(float(row[3]) - 1) <= 0.05
    ]
    lines = ["Every target with a number was met in this run."]
    if thin:
        lines += ["", "Met by a margin within the run-to-run spread (read these as ties):", ""]
    return [*lines, *thin, ""]


def live_section(live: dict[str, Any] | None) -> list[str]:
    """The live feel of the real app (bench/live.py), when ``make -C bench live`` ran."""
    if live is None:
        return []
    from bench.live import render_section  # Playwright and the app's stack: only when needed

    return [render_section(live).rstrip(), ""]


def history(doc: Path) -> list[str]:
    """The history section of the document being replaced, as it was."""
    text = doc.read_text() if doc.exists() else ""
    at = text.find(f"\n{HISTORY}")
    return [text[at + 1 :].rstrip(), ""] if at >= 0 else []


def write_report(results_path: Path, doc: Path = DOC) -> str:
    """Write ``doc`` (and its plots in the folder named after it) from the results; return its
    path."""

    def beside(name: str) -> dict[str, Any] | None:
        path = results_path.with_name(name)
        return json.loads(path.read_text()) if path.exists() else None

    results, p2p = json.loads(results_path.read_text()), beside("p2p.json")
    report = Report(results, plots=doc.with_suffix(""), baseline=results.get("baseline"))
    body = [
        *idle_section(report),
        *shared_idle_section(report),
        *relay_section(report),
        *instructions_section(report, beside("instructions.json")),
        *storm_section(report),
        *fan_out_section(report),
        *cluster_section(report),
        *p2p_section(report, p2p),
        *live_section(beside("live.json")),
    ]
    summary = [
        "## Summary: ours against the best peer server",
        "",
        *table(report.header(), report.rows),
    ]
    lines = [*header(report, p2p), *summary, *targets_text(report), *body, *history(doc)]
    doc.parent.mkdir(parents=True, exist_ok=True)
    doc.write_text("\n".join(lines).rstrip() + "\n")
    return str(doc)
