"""Run to run: what a rerun moves, and whether the published intervals hold on the next run.

    python scripts/evidence/run_to_run.py spread RUN.json ... [--out bench/run_to_run.json]
    python scripts/evidence/run_to_run.py check RUN.json ... [--out FILE.md]

`spread` measures, per workload, the SD on the log scale of each row's median and speedup
across back-to-back runs (the median over the workload's rows): the run-to-run term that
bench.stats adds to every interval of a run on the same kind of machine.

`check` judges the intervals the report publishes for these runs: over every pair of runs
and every row of 100 ms or more, how often the two runs' 95 % intervals overlap, and how
often one run's median (speedup) lies inside the other's interval (about 83 % for intervals
that are exactly right: the other run's figure has its own error too); and whether every
workload's decision names the same winner or the same tie.  `--leave-one-out` measures
each run's term from the other runs only, so the check is not judged on its own data.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from bench import run_to_run
from bench.report.load import load_run
from bench.report.rerun import check_markdown, measure_spread, sessions
from bench.report.table import scenario_table


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("action", choices=("spread", "check"))
    parser.add_argument("runs", nargs="+", type=Path)
    parser.add_argument("--out", type=Path)
    parser.add_argument("--leave-one-out", action="store_true")
    parser.add_argument("--within-only", action="store_true",
                        help="no run-to-run term: what one run's own rounds promise")
    args = parser.parse_args(argv)
    if len(args.runs) < 3:
        print("error: give at least three runs", file=sys.stderr)
        return 2
    if args.action == "check":
        text = check_markdown(args.runs, args.leave_one_out, args.within_only)
    else:
        runs = [load_run(path) for path in args.runs]
        tables = [scenario_table([run], run_to_run.NONE) for run in runs]
        groups = sessions([run.datetime for run in runs])
        spread = measure_spread(tables, run_to_run.machine_of(runs[0].machine),
                                sorted({str(run.commit.get("id", ""))[:7] for run in runs}),
                                groups)
        committed = run_to_run.load()  # the service terms stay as they are
        spread = dataclasses.replace(spread, saturation=committed.saturation,
                                     saturation_ratio=committed.saturation_ratio,
                                     service_runs=committed.service_runs)
        text = json.dumps(spread.as_dict(), indent=2) + "\n"
    if args.out:
        args.out.write_text(text)
        print(f"wrote {args.out}")
    else:
        print(text, end="")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
