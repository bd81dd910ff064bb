"""``python -m bench run`` measures the servers (``--workloads instructions``: instructions per
relayed message under callgrind); ``p2p`` times the peer-to-peer path; ``live`` the real app;
``report`` writes docs/benchmarks.md from what they wrote."""

from __future__ import annotations

import argparse
import sys
from dataclasses import replace
from pathlib import Path

from bench.run import RESULTS


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser("run", help="run the workloads and write the results JSON")
    run.add_argument("--servers", nargs="+", help="subset: ours y-webrtc peerjs")
    run.add_argument("--baseline", metavar="REVISION", help="also run ours as it was then")
    run.add_argument("--workloads", nargs="+", help="idle relay storm fanout ... instructions")
    run.add_argument("--runs", type=int, help="runs of each workload (default 3)")
    for name, default in (("p2p", "p2p.json"), ("live", "live.json")):
        commands.add_parser(name, help=f"measure (inside tools/in_netns.sh) into {default}")
    commands.add_parser("report", help="write docs/benchmarks.md and plots from results")
    for name, command in commands.choices.items():
        command.add_argument("--results", type=Path, help=f"default: {RESULTS.parent}/")
        if name != "report":
            command.add_argument("--quick", action="store_true", help="tiny sizes, one run")
    commands.choices["report"].add_argument("--doc", type=Path, help="default docs/benchmarks.md")
    args = parser.parse_args(argv)
    results = args.results or RESULTS.with_name(f"{args.command}.json")
    if args.command == "run":
        from bench.run import Plan, run_all

        plan = Plan.quick() if args.quick else Plan()
        workloads = tuple(args.workloads or plan.workloads)
        servers, runs = tuple(args.servers or plan.servers), args.runs or plan.runs
        plan = replace(
            plan, servers=servers, workloads=workloads, baseline=args.baseline, runs=runs
        )
        run_all(plan, args.results or RESULTS)
    elif args.command == "p2p":
        from bench.p2p import run_p2p

        run_p2p(results, quick=args.quick)
    elif args.command == "live":
        from bench.live import LivePlan, run_live

        run_live(results, LivePlan.quick() if args.quick else LivePlan())
    else:
        from bench.report import DOC, write_report

        print(write_report(args.results or RESULTS, args.doc or DOC))
    return 0


if __name__ == "__main__":
    sys.exit(main())
