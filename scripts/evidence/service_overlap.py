"""Do back-to-back `make service` runs agree on each deployment's saturation?

    python scripts/evidence/service_overlap.py spread RUN.json RUN.json RUN.json [...]
        [--write]
    python scripts/evidence/service_overlap.py check RUN.json RUN.json [...]
        [--term committed|none|leave-one-out] [--out FILE.md]

`spread` measures what a rerun moves a saturation: per workload, the median over models
of the SD on the log scale of each model's saturation (the geometric middle of its
bracket) across the runs (pooled within sessions of back-to-back runs), and the median
over pairs of models of the SD of the ratio of
their saturations in one run (bench.report.rerun.measure_saturation); `--write` puts both
into bench/run_to_run.json beside the batch terms, which it keeps.

`check` takes each model's bracket in every run (the report's rule: fit rows only, the
lowest rate not kept and the highest kept below it), widens it by the rerun term the
report uses (`--term committed`, the default), by none (`none`: the brackets of one run
alone), or by a term measured from the other runs only (`leave-one-out`), and says per
model whether the brackets of all the runs overlap.  Two brackets [a, b) and [c, d)
overlap when a < d and c < b; an open end reaches infinity.  A bracket its slots bounded
is the harness's or the configuration's limit, not the model's: marked so.
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
from bench.report.rerun import TERMS, measure_saturation, saturation_check_markdown, sessions
from bench.report.table import scenario_table
from scripts.evidence import emit


def spread(paths: list[Path], write: bool) -> str:
    runs = [load_run(path) for path in paths]
    alone, paired = measure_saturation([scenario_table([run], run_to_run.NONE) for run in runs],
                                       sessions([run.datetime for run in runs]))
    text = json.dumps({"service_runs": len(paths), "saturation": alone,
                       "saturation_ratio": paired}, indent=2) + "\n"
    if write:
        machine = run_to_run.machine_of(runs[0].machine)
        committed = run_to_run.load()
        if committed.machine and committed.machine != machine:
            raise SystemExit(f"error: bench/run_to_run.json is for {committed.machine}, "
                             f"these runs are on {machine}")
        updated = dataclasses.replace(committed, machine=machine, saturation=alone,
                                      saturation_ratio=paired, service_runs=len(paths))
        run_to_run.SPREAD_FILE.write_text(json.dumps(updated.as_dict(), indent=2) + "\n")
        text += f"wrote {run_to_run.SPREAD_FILE.name}\n"
    return text


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("action", choices=("check", "spread"))
    parser.add_argument("runs", nargs="+", type=Path)
    parser.add_argument("--term", choices=TERMS, default="committed")
    parser.add_argument("--write", action="store_true")
    parser.add_argument("--out", type=Path)
    args = parser.parse_args(argv)
    # A spread needs three runs; leaving one out, three more than the one judged.
    fewest = 3 if args.action == "spread" else 4 if args.term == "leave-one-out" else 2
    if len(args.runs) < fewest:
        parser.error(f"give at least {fewest} runs")
    if args.action == "spread":
        return emit(spread(args.runs, args.write), args.out)
    return emit(saturation_check_markdown(args.runs, args.term), args.out)


if __name__ == "__main__":
    raise SystemExit(main())
