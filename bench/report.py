"""Write ``docs/benchmarks.md`` and its plots from the results JSON (and ``p2p.json``,
``instructions.json`` and ``live.json`` beside it, when present).

The words are in ``report.md``, one part per section: each section function fills its part and adds
its rows to the summary. The document's ``## History`` on is kept as it was. Figures are medians
over the runs; ratios are ours over the best peer server (and over ours-before, when a baseline
ran). This module reads JSON only: it must not measure, or import what does.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

from bench.servers import BASELINE, OUR_FLAGS, PEERS, ROOT, SERVER_NAMES
from bench.stats import median

DOC: Final = ROOT / "docs" / "benchmarks.md"
NA: Final = "n/a"
NAN: Final = math.nan
SATURATED: Final = 0.9  # a server core busier than this (median) counts as saturated
ORDER: Final = ("ours", BASELINE, *PEERS)
CLUSTER: Final = "cluster"  # ours as several instances: one more column of the relay table
Runs = list[dict[str, Any]]
Medians = dict[float, dict[str, float]]  # per offered rate (or level): figure -> median

_pieces = re.split(
    r"^<!-- ([a-z0-9-]+) -->\n", Path(__file__).with_name("report.md").read_text(), flags=re.M
)
PARTS: Final = {name: text.strip() for name, text in zip(_pieces[1::2], _pieces[2::2], strict=True)}


def fill(part: str, **values: Any) -> str:
    """The template's ``part`` with ``values`` filled in (a value left empty leaves no gap)."""
    return re.sub(r"\n{3,}", "\n\n", PARTS[part].format_map(values)).strip()


def fmt(value: float | None, digits: int = 1, unit: str = "") -> str:
    if value is None or math.isnan(value):
        return NA
    text = f"{value:,.0f}" if abs(value) >= 1000 else f"{value:.{digits}f}"
    return f"{text} {unit}" if unit else text


def met(ratio: float, lower: bool) -> str:
    """Whether ours ÷ the best peer meets the target (≤ 1 when lower is better, else ≥ 1)."""
    if math.isnan(ratio):
        return NA
    if ratio <= 1 if lower else ratio >= 1:
        return "yes"
    return f"no ({abs(ratio - 1):.0%} {'over' if lower else 'short'})"


def table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    return "\n".join([*lines, *("| " + " | ".join(row) + " |" for row in rows)])


def ok(runs: Runs) -> Runs:
    return [run for run in runs if "error" not in run]


def median_of(runs: Runs, key: str) -> float:
    return median([float(run[key]) for run in ok(runs) if key in run])


def step_medians(runs: Runs, by: str, keys: Sequence[str]) -> Medians:
    """Per value of ``by`` over the runs' steps: each key's median, and ``runs`` that got there."""
    slots: dict[float, dict[str, list[float]]] = {}
    for step in (step for run in ok(runs) for step in run["steps"]):
        slot = slots.setdefault(step[by], {"runs": []})
        slot["runs"].append(1.0)
        for key in keys:
            if key in step:
                slot.setdefault(key, []).append(float(step[key]))
    return {
        at: {k: (sum(v) if k == "runs" else median(v)) for k, v in slot.items()}
        for at, slot in sorted(slots.items())
    }


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

    def width(self) -> int:
        return 8 if self.baseline else 6

    def add(self, row: list[str]) -> None:
        self.rows.append(row + [""] * (self.width() - len(row)))

    def compare(
        self,
        figure: str,
        values: Mapping[str, float],
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
        row = [figure, fmt(ours, digits, unit), fmt(best, digits, unit), fmt(ratio, 2)]
        row += [("≤ 1.0" if lower else "≥ 1.0"), met(ratio, lower)] if target else ["(none)", ""]
        if self.baseline:
            before = values.get(BASELINE, NAN)
            row += [fmt(before, digits, unit), fmt(ours / before if before else NAN, 2)]
        self.rows.append(row)

    def row(
        self, label: str, values: Mapping[str, float], digits: int = 1, columns: Sequence[str] = ()
    ) -> list[str]:
        """A table row: ``label``, then the value of each server (or of each of ``columns``)."""
        return [label, *(fmt(values.get(s, NAN), digits) for s in columns or self.servers)]

    def medians(self, workload: str, key: str) -> dict[str, float]:
        """Each server's median of ``key`` over its runs of ``workload``."""
        return {s: median_of(self.work.get(workload, {}).get(s, []), key) for s in self.servers}

    def plot(
        self,
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

        self.plots.mkdir(parents=True, exist_ok=True)
        figure, axes = plt.subplots(figsize=(6.4, 3.8), dpi=100)
        width, bars = 0.8 / max(len(series), 1), bool(xs) and isinstance(xs[0], str)
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
        figure.savefig(self.plots / f"{name}.png")
        plt.close(figure)
        return f"![{name}]({self.plots.name}/{name}.png)"


AXES: Final = {
    "idle-memory": ("idle connections", "server PSS per connection, KiB"),
    "relay-p99": ("offered messages/s", "p99 latency, ms (log)"),
    "relay-cpu": ("offered messages/s", "server CPU per message, µs"),
    "storm-joins": ("room size", "joins/s"),
    "fan-out": ("", "deliveries/s"),
    "p2p": ("", "ms"),
}


# --- sections: each returns its Markdown, or None when its workload did not run -----------------


def header_section(report: Report, p2p: dict[str, Any] | None) -> str:
    machine = report.results["machine"]
    versions = [[name, str(version)] for name, version in machine["versions"].items()]
    if p2p:
        versions.append(["chromium", p2p.get("chromium", "?")])
    unknown = dict.fromkeys(("started", "finished", "load_average_start", "load_average_end"), "?")
    return fill(
        "header",
        r=unknown | {"nice": 0} | report.results,
        m=machine,
        dirty=" with changes in signaling/" if machine.get("signaling_changes_uncommitted") else "",
        our_flags=" ".join(OUR_FLAGS),
        baseline=fill("header-baseline", revision=report.baseline) if report.baseline else "",
        versions=table(["software", "version"], versions),
    )


def summary_section(report: Report) -> str:
    """The summary table and what it says about the targets (after every other section)."""
    rows, targets = report.rows, ""
    missed = [row for row in rows if row[5].startswith("no")]
    if missed:
        lines = [
            f"- **{r[0]}**: {r[5]} (ours {r[1]}" + (f", best peer {r[2]})." if r[2] else ").")
            for r in missed
        ]
        targets = fill("targets-missed", missed="\n".join(lines))
    elif any(row[5] == "yes" for row in rows):
        ties = "\n".join(
            f"- {r[0]}: ours {r[1]}, best peer {r[2]} ({r[3]})."
            for r in rows
            if r[5] == "yes" and r[3] not in (NA, "") and abs(float(r[3]) - 1) <= 0.05
        )
        targets = fill("targets-met", ties=ties and fill("targets-ties", ties=ties))
    header = ["figure", "ours", "best peer", "ours ÷ best peer", "target", "met?"]
    if report.baseline:
        header += [f"ours-before (`{report.baseline}`)", "ours ÷ ours-before"]
    return fill("summary", table=table(header, rows), targets=targets)


def idle_section(report: Report) -> str | None:
    single, shared = _idle_single(report), _idle_shared(report)
    return fill("idle", single=single, shared=shared) if single or shared else None


def _idle_single(report: Report) -> str:
    idle, servers = report.work.get("idle", {}), report.servers
    if not idle:
        return ""
    keys = ("pss_per_conn_bytes", "connect_rate_per_s")
    medians = {s: step_medians(idle.get(s, []), "level", keys) for s in servers}
    levels = sorted({level for m in medians.values() for level in m})
    top = levels[-1]

    def kib(server: str, level: float) -> float:
        return medians[server].get(level, {}).get(keys[0], NAN) / 1024

    def rate(server: str, level: float) -> float:
        return medians[server].get(level, {}).get(keys[1], NAN)

    cells = {v: [f"{fmt(kib(s, v))} KiB, {fmt(rate(s, v), 0)}/s" for s in servers] for v in levels}
    runs = {s: [r for r in ok(idle.get(s, [])) if r.get("steps")] for s in servers}
    held = {s: ", ".join(f"{r['held_open']:,}/{r['steps'][-1]['connected']:,}" for r in runs[s])
            for s in servers}  # fmt: skip
    fd_limit = report.results["machine"]["fd_limit"]
    capped = top < max(report.results["plan"].get("idle_levels", [top]))
    hold = median_of(idle.get("ours", []), "hold_seconds")
    memory = {s: kib(s, top) for s in servers}
    figure = f"memory per idle connection at {top:,} (PSS)"
    report.compare(figure, memory, unit="KiB", lower=True, digits=1)
    ours = runs.get("ours", [])
    kept = bool(ours) and all(r["held_open"] == r["steps"][-1]["connected"] == top for r in ours)
    all_held = "yes" if kept else "no"
    if top >= 20000:
        report.add(
            [f"{top:,} idle connections held (ours)", all_held, "", "", "20k held", all_held]
        )
    else:  # the 20k target is then judged on the shared-port runs
        most = " (the most one process may open here)" if capped else ""
        figure = f"{top:,} idle connections held by one process (ours)"
        report.add([figure, all_held, "", "", f"all held{most}", all_held])
    return fill(
        "idle-single",
        capped=fill("idle-capped", top=top, fd_limit=fd_limit) if capped else "",
        table=table(["connections", *servers], [[f"{v:,}", *cells[v]] for v in levels]),
        hold=fmt(hold, 0),
        heartbeats=PARTS["idle-heartbeats"] if hold >= 50 else "",
        held="; ".join(f"{s}: {held[s] or NA}" for s in servers),
        plot=report.plot("idle-memory", levels, {s: [kib(s, v) for v in levels] for s in servers}),
    )


def _idle_shared(report: Report) -> str:
    runs = report.work.get("idle-shared", {}).get("ours", [])
    done = [run for run in ok(runs) if run.get("connected")]
    if not done:
        return ""
    level, processes = int(done[0]["level"]), done[0]["server_processes"]

    def plus(numbers: Sequence[int]) -> str:
        return " + ".join(f"{n:,}" for n in numbers)

    rows = [
        [
            str(index + 1),
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
    figure = f"{level:,} idle connections held (ours, {processes} processes on one port)"
    all_held = held == len(runs) and level >= 20000
    report.add(
        [figure, f"{held}/{len(runs)} runs", "", "", "20k held", "yes" if all_held else "no"]
    )
    columns = ["run", "connected (per generator process)", "per instance", "held", "conn/s"]
    return fill(
        "idle-shared",
        level=level,
        processes=processes,
        generators=done[0]["generator_processes"],
        hold=fmt(median_of(done, "hold_seconds"), 0),
        table=table([*columns, "KiB/conn (PSS)", "KiB/conn with Redis"], rows),
    )


RELAY_KEYS: Final = (
    *("p50_ms", "p99_ms", "server_cpu_us_per_msg", "server_cpu_share", "sustained"),
    *("server_writes_per_msg", "generator_bound"),
)


def unbound_best(runs: Runs) -> float:
    """Per run, the highest step sustained while the generator still had CPU to spare."""
    free = [
        [s for s in run["steps"] if s["sustained"] and not s["generator_bound"]] for run in ok(runs)
    ]
    return median([max((s["offered_per_s"] for s in steps), default=0.0) for steps in free])


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


def step_cell(m: dict[str, float] | None) -> str:
    """One relay step's medians: p50 / p99, CPU per message, generator-bound, runs there."""
    if m is None:
        return NA
    bound = " (gen)" if m.get("generator_bound", 0) >= 0.5 else ""
    text = f"{fmt(m['p50_ms'], 2)} / {fmt(m['p99_ms'], 1)} ms, {fmt(m['server_cpu_us_per_msg'])}"
    return f"{text} µs{bound} [{m['runs']:.0f}]"


def relay_section(report: Report) -> str | None:
    """The relay ladder per server, with ours as several instances (Redis) as its last column."""
    relay = dict(report.work.get("relay", {}))
    if not relay:
        return None
    servers, columns = report.servers, list(report.servers)
    cluster = ok(report.work.get("cluster", {}).get("ours", []))
    if cluster:
        relay[CLUSTER] = cluster
        columns.append(CLUSTER)
    medians = {s: step_medians(relay.get(s, []), "offered_per_s", RELAY_KEYS) for s in columns}
    best = {s: median_of(relay.get(s, []), "max_sustained_per_s") for s in columns}
    unbound = {s: unbound_best(relay.get(s, [])) for s in columns}
    rates = sorted({rate for m in medians.values() for rate in m})
    reference, unsaturated = reference_rate({s: medians[s] for s in servers}, best)

    def at(rate: float, key: str = "server_cpu_us_per_msg") -> dict[str, float]:
        return {s: medians[s].get(rate, {}).get(key, NAN) for s in columns}

    instances = cluster[0].get("instances", "?") if cluster else 0
    names = [f"ours, {instances} instances + Redis" if s == CLUSTER else s for s in columns]
    ratios = ""
    if unsaturated and all(p in medians for p in PEERS):
        each = [at(r)["ours"] / min(at(r)[p] for p in PEERS) for r in unsaturated]
        ratios = fill(
            "relay-ratios",
            low=fmt(unsaturated[0], 0),
            high=fmt(unsaturated[-1], 0),
            ratios=", ".join(f"{r:.2f}" for r in each),
            median=f"{median(each):.2f}",
        )

    def series(key: str, among: Sequence[str]) -> dict[str, list[float]]:
        pairs = zip(columns, names, strict=True)
        return {name: [at(r, key)[s] for r in rates] for s, name in pairs if s in among}

    report.compare("directed relay: highest rate with p99 ≤ 50 ms", best, unit="msg/s")
    report.compare(
        "directed relay: the same, counting only steps where the generator had CPU to spare",
        unbound,
        unit="msg/s",
    )
    figure = f"server CPU per relayed message at {fmt(reference, 0)} msg/s"
    report.compare(figure, at(reference), unit="µs", lower=True, digits=1)
    if cluster:
        figure = (
            f"directed relay across {instances} instances (Redis): highest rate with p99 ≤ 50 ms"
        )
        report.compare(figure, {"ours": best[CLUSTER]}, unit="msg/s", target=False)
    writes_at = sorted({r for r in (rates[0], reference, best["ours"]) if not math.isnan(r)})
    figures = [
        report.row("highest rate sustained (median)", best, 0, columns),
        report.row("… with the generator not the bottleneck", unbound, 0, columns),
        report.row(f"server CPU µs/msg at {fmt(reference, 0)} msg/s", at(reference), 1, columns),
        *(
            report.row(
                f"server write calls per message at {fmt(r, 0)} msg/s",
                at(r, "server_writes_per_msg"),
                2,
                columns,
            )
            for r in writes_at
        ),
    ]
    runs = ok(relay.get("ours", []))
    steps = [[fmt(r, 0), *(step_cell(medians[s].get(r)) for s in columns)] for r in rates]
    return fill(
        "relay",
        rooms=runs[0]["rooms"] if runs else "?",
        cluster=fill("relay-cluster", instances=instances) if cluster else "",
        table=table(["offered msg/s", *names], steps),
        figures=table(["", *names], figures),
        ratios=ratios,
        plots="\n".join(
            [
                report.plot("relay-p99", rates, series("p99_ms", columns), log=True, limit=50),
                report.plot("relay-cpu", rates, series("server_cpu_us_per_msg", servers)),
            ]
        ),
    )


def instructions_section(report: Report, data: dict[str, Any]) -> str | None:
    """Instructions per message under callgrind (``data``: the results of that workload's run)."""
    jobs = data.get("workloads", {}).get("instructions", {})
    counted = [s for s in ORDER if s in jobs]
    if not counted:
        return None
    plan = data["plan"]["instructions"]
    low, high = (fmt(rate, 0) for rate in plan["rates"])
    runs = {s: [run for job in jobs[s] for run in job.get("runs", [])] for s in counted}

    def each(server: str) -> str:
        errors = [job["error"] for job in jobs[server] if "error" in job]
        lost = {True: "", False: " (messages lost)"}
        text = ", ".join(
            f"{r['instructions_per_message']:,}{lost[r['complete']]}" for r in runs[server]
        )
        return errors[0] if errors else text

    def figure(key: str) -> dict[str, float]:
        return {s: median([r[key] for r in runs[s] if r["complete"]]) for s in counted}

    per_message, whole = figure("instructions_per_message"), figure("whole_step_per_message")
    rows = [[s, fmt(per_message[s], 0), each(s), fmt(whole[s], 0)] for s in counted]
    whole_step = f"whole step at {high} msg/s"
    if data.get("baseline") != report.baseline:  # the summary's ours-before is another revision
        per_message.pop(BASELINE, None)
    figure_name = f"user-space instructions per relayed message, {low} → {high} msg/s (callgrind)"
    report.compare(figure_name, per_message, lower=True)
    return fill(
        "instructions",
        d={"started": "?"} | data,
        m={"revision": "?", "valgrind": "?"} | data["machine"],
        p=plan,
        before=f" (ours-before: `{data['baseline']}`)" if data.get("baseline") else "",
        low=low,
        high=high,
        table=table(["server", "per message (median)", "each run", whole_step], rows),
    )


def storm_section(report: Report) -> str | None:
    plan, servers = report.results["plan"], report.servers
    sizes = [size for size in plan.get("storm_sizes", []) if f"storm{size}" in report.work]
    if not sizes:
        return None
    keys = ("joins_per_s", "join_p99_ms", "server_cpu_us_per_join")
    figures = {size: {key: report.medians(f"storm{size}", key) for key in keys} for size in sizes}
    joins, p99, cpu = keys

    def storm_cell(f: dict[str, dict[str, float]], s: str) -> str:
        return f"{fmt(f[joins][s], 0)}/s, p99 {fmt(f[p99][s])} ms, {fmt(f[cpu][s], 0)} µs"

    rows = [[str(size), *(storm_cell(f, s) for s in servers)] for size, f in figures.items()]
    for size in sizes:
        report.compare(f"join storm, rooms of {size}: joins/s", figures[size][joins], target=False)
    if 2 in sizes:
        report.compare(
            f"server CPU per new connection (upgrade, ticket check, welcome), "
            f"{plan.get('storm_peers'):,} opened into rooms of 2",
            figures[2][cpu],
            unit="µs",
            lower=True,
        )
    series = {s: [figures[size][joins][s] for size in sizes] for s in servers}
    return fill(
        "storm",
        peers=plan.get("storm_peers"),
        table=table(["room size", *servers], rows),
        plot=report.plot("storm-joins", [str(z) for z in sizes], series),
    )


def fan_out_section(report: Report) -> str | None:
    sample = ok(report.work.get("fanout", {}).get("ours", []))
    if not sample:
        return None
    rate = report.medians("fanout", "deliveries_per_s")
    room = sample[0]["room_size"]
    report.compare(f"fan-out to a room of {room}: deliveries/s", rate, target=False)
    labels = {
        "event_p99_ms": ("event → last delivery p99, ms", 1),
        "server_cpu_us_per_delivery": ("server CPU per delivery, µs", 1),
        "server_cpu_share": ("server core busy (share)", 2),
        "generator_cpu_share": ("generator core busy", 2),
    }
    rows = [report.row("deliveries/s", rate, 0)] + [
        report.row(label, report.medians("fanout", key), digits)
        for key, (label, digits) in labels.items()
    ]
    return fill(
        "fanout",
        run=sample[0],
        table=table(["", *report.servers], rows),
        plot=report.plot("fan-out", ["deliveries/s"], {s: [v] for s, v in rate.items()}),
    )


def p2p_section(report: Report, p2p: dict[str, Any] | None) -> str:
    if not p2p:
        return fill("p2p-none")
    cases = p2p["cases"]
    one_way = {name: c["median_one_way_p50_ms"] for name, c in cases.items()}
    tabs = "chromium-chromium"
    if f"{tabs} datachannel" in cases:
        figure = "peer to peer: a drag event tab → tab, one way p50 (data channel; through our "
        figure += "signaling)"
        value = f"{fmt(one_way[f'{tabs} datachannel'], 3)} ms; "
        value += f"{fmt(one_way.get(f'{tabs} via signaling', NAN), 3)} ms"
        report.add([figure, value, "", "", "(none)"])
    keys = ("p50_ms", "p99_ms", "one_way_p50_ms", "one_way_p99_ms")
    rows = [[name, *(fmt(c[f"median_{key}"], 3) for key in keys)] for name, c in cases.items()]
    return fill(
        "p2p",
        p={"measured": "?"} | p2p,
        table=table(["path", "RTT p50 ms", "RTT p99 ms", "one way p50 ms", "one way p99 ms"], rows),
        plot=report.plot("p2p", ["one way p50"], {n: [v] for n, v in one_way.items()}),
    )


def live_section(live: dict[str, Any] | None) -> str | None:
    """The live feel of the real app (bench/live.py), when ``make -C bench live`` ran."""
    if live is None:
        return None
    drags, blocked = live["drags"], live["blocked"]

    def spreads(entry: dict[str, Any], *keys: str) -> str:
        return " / ".join(
            f"{e['median']:,.0f} ms ({e['min']:,.0f} to {e['max']:,.0f})"
            for e in (entry[key] for key in keys)
        )

    def latency(entry: dict[str, float]) -> str:
        return f"{entry['p50_ms']:.1f} ms / {entry['p99_ms']:.1f} ms"

    messages = drags["server_messages"]
    by_type = ", ".join(f"{k} {v:g}" for k, v in sorted(messages["by_type"].items())) or "none"
    return fill(
        "live",
        **live,
        **{key: latency(drags[key]) for key in ("start", "start_from_handling", "drop")},
        tenth=spreads(live["tenth_tab"], "from_navigation_ms", "from_live_ms"),
        bot_linked=spreads(live["bot"], "from_start_ms", "from_joined_ms"),
        paths=", ".join(blocked["paths_when_seen"]),
        blocked_seen=spreads(blocked, "from_navigation_ms", "from_live_ms"),
        relayed="; ".join(
            latency(blocked[key]) for key in ("relayed_start", "relayed_start_from_handling")
        ),
        messages=f"{messages['total']:g} ({by_type})",
    )


def write_report(results_path: Path, doc: Path = DOC) -> str:
    """Write ``doc`` (and its plots in the folder named after it) from the results, keeping its
    history section; return its path."""

    def beside(name: str) -> dict[str, Any] | None:
        path = results_path.with_name(name)
        return json.loads(path.read_text()) if path.exists() else None

    results, p2p = json.loads(results_path.read_text()), beside("p2p.json")
    report = Report(results, plots=doc.with_suffix(""), baseline=results.get("baseline"))
    body = [
        idle_section(report),
        relay_section(report),
        instructions_section(report, beside("instructions.json") or results),
        storm_section(report),
        fan_out_section(report),
        p2p_section(report, p2p),
        live_section(beside("live.json")),
    ]
    old = doc.read_text() if doc.exists() else ""
    history = old[old.find("\n## History") + 1 :].rstrip() if "\n## History" in old else ""
    parts = [header_section(report, p2p), summary_section(report), *body, history]
    doc.parent.mkdir(parents=True, exist_ok=True)
    doc.write_text("\n\n".join(part for part in parts if part) + "\n")
    return str(doc)
