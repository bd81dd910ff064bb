"""``python -m bench run`` measures; ``instructions`` counts instructions per relayed message
under callgrind; ``p2p`` times the peer-to-peer path; ``report`` writes docs."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from bench.run import RESULTS, Plan, run_all


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser("run", help="run the workloads and write the results JSON")
    run.add_argument(
        "--quick", action="store_true", help="tiny sizes, one run (tries the machinery)"
    )
    run.add_argument("--results", type=Path, default=RESULTS)
    run.add_argument("--servers", nargs="+", default=None, help="subset: ours y-webrtc peerjs")
    run.add_argument("--workloads", nargs="+", default=None, help="subset: idle relay storm fanout")
    instructions = commands.add_parser(
        "instructions", help="instructions per relayed message, each server under callgrind"
    )
    instructions.add_argument("--quick", action="store_true", help="tiny sizes, one run")
    instructions.add_argument("--results", type=Path, default=None)
    instructions.add_argument("--servers", nargs="+", default=None, help="subset")
    report = commands.add_parser("report", help="write docs/benchmarks.md and plots from results")
    report.add_argument("--results", type=Path, default=RESULTS)
    p2p = commands.add_parser("p2p", help="the peer-to-peer path (run inside tools/in_netns.sh)")
    p2p.add_argument("--results", type=Path, default=RESULTS.with_name("p2p.json"))
    args = parser.parse_args(argv)
    if args.command == "run":
        plan = Plan.quick() if args.quick else Plan()
        if args.servers or args.workloads:
            from dataclasses import replace

            plan = replace(
                plan,
                servers=tuple(args.servers or plan.servers),
                workloads=tuple(args.workloads or plan.workloads),
            )
        run_all(plan, args.results)
        return 0
    if args.command == "instructions":
        from dataclasses import replace

        from bench.instructions import INSTRUCTIONS_RESULTS, InstructionPlan, run_instructions

        counted = InstructionPlan.quick() if args.quick else InstructionPlan()
        if args.servers:
            counted = replace(counted, servers=tuple(args.servers))
        run_instructions(counted, args.results or INSTRUCTIONS_RESULTS)
        return 0
    if args.command == "report":
        from bench.report import write_report

        write_report(args.results)
        return 0
    from bench.p2p import run_p2p

    run_p2p(args.results)
    return 0


if __name__ == "__main__":
    sys.exit(main())
