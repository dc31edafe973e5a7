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
is the harness's limit, not the model's: shown, not judged.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import math
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

import pandas as pd

from bench import run_to_run
from bench.report.load import load_run
from bench.report.rerun import Bracket, measure_saturation, saturation_brackets, sessions
from bench.report.table import scenario_table
from bench.stats import rerun_bracket
from scripts.evidence import emit

TERMS = ("committed", "none", "leave-one-out")


def overlap(every: list[Bracket]) -> bool:
    low = max((best or 0.0) for best, _ in every)
    high = min((above if above is not None else math.inf) for _, above in every)
    return low < high


def _text(bracket: Bracket) -> str:
    best, above = bracket
    return f"[{best or 0:,.0f}, {'open' if above is None else f'{above:,.0f}'})"


def _tables(paths: list[Path], term: str) -> list[pd.DataFrame]:
    runs = [load_run(path) for path in paths]
    plain = [scenario_table([run], run_to_run.NONE) for run in runs]
    if term == "none":
        return plain
    if term == "committed":
        return [scenario_table([run]) for run in runs]
    machine = run_to_run.machine_of(runs[0].machine)
    groups = sessions([run.datetime for run in runs])
    found = [measure_saturation([t for j, t in enumerate(plain) if j != i],
                                [g for j, g in enumerate(groups) if j != i])
             for i in range(len(runs))]
    return [scenario_table([run], run_to_run.Spread(machine, saturation=alone,
                                                    saturation_ratio=paired))
            for run, (alone, paired) in zip(runs, found, strict=True)]


def check(paths: list[Path], term: str) -> str:
    runs = [saturation_brackets(table) for table in _tables(paths, term)]
    said = {"committed": "the committed one (bench/run_to_run.json)",
            "none": "none: each run's brackets alone",
            "leave-one-out": "each run's from the other runs only"}[term]
    lines = [f"# Saturation brackets of {len(paths)} back-to-back runs", "",
             "Runs: " + ", ".join(f"`{path.parent.name}`" for path in paths) + ".", "",
             f"Run-to-run term: {said}.  Each cell: the run's bracket, then the bracket "
             "widened by the term (what a rerun should fall in).", "",
             "| model | " + " | ".join(f"run {i + 1}" for i in range(len(paths)))
             + " | overlap |", "|---" * (len(paths) + 2) + "|"]
    agree = judged = 0
    models = [model for model in runs[0] if all(model in run for run in runs)]
    for model in models:
        cells, wide, bounded = [], [], False
        for run in runs:
            bracket, found, capped = run[model]
            widened = rerun_bracket(bracket[0] or None, bracket[1], found)
            wide.append(widened)
            bounded = bounded or capped
            cells.append(_text(bracket) + (f" → {_text(widened)}" if found else "")
                         + (" (bounded by its slots)" if capped else ""))
        if bounded:
            verdict = "not judged: bounded by its slots"
        else:
            judged += 1
            fine = overlap(wide)
            agree += fine
            verdict = "yes" if fine else "**no**"
        lines.append(f"| {model} | " + " | ".join(cells) + f" | {verdict} |")
    lines += ["", f"{agree} of {judged} models' brackets overlap in every run."]
    return "\n".join(lines) + "\n"


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
    return emit(check(args.runs, args.term), args.out)


if __name__ == "__main__":
    raise SystemExit(main())
