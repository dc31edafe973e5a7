"""Do back-to-back `make service` runs agree on each deployment's saturation?

For every model in every given run: its saturation bracket under the run's SLO (the
report's rule: fit rows only, the lowest rate not kept and the highest kept below it),
then, per model, whether the brackets of all the runs overlap.  Two brackets [a, b) and
[c, d) overlap when a < d and c < b; an open end (no rate not kept) reaches infinity.

    python scripts/evidence/service_overlap.py RUN.json RUN.json [...] [--out FILE.md]
"""

from __future__ import annotations

import argparse
import math
from pathlib import Path

from bench.claims.c15_one_core import GROUP, MODEL, model_bracket
from bench.report.load import load_run
from bench.report.table import scenario_table
from scripts.evidence import emit

Bracket = tuple[float | None, float | None]


def brackets(path: Path) -> dict[str, Bracket]:
    table = scenario_table([load_run(path)])
    rows = table[table["offered_rate"].notna()]
    found: dict[str, Bracket] = {}
    for key, model in rows.groupby(GROUP[:1] + MODEL, sort=False, dropna=False):
        found[f"{key[0]}: {key[2]}"] = model_bracket(model, fit_only=True)
    return found


def overlap(every: list[Bracket]) -> bool:
    low = max((best or 0.0) for best, _ in every)
    high = min((above if above is not None else math.inf) for _, above in every)
    return low < high


def _text(best: float | None, above: float | None) -> str:
    return f"[{best or 0:g}, {'open' if above is None else f'{above:g}'})"


def measure(paths: list[Path]) -> str:
    runs = [brackets(path) for path in paths]
    lines = [f"# Saturation brackets of {len(paths)} back-to-back runs", "",
             "Runs: " + ", ".join(f"`{path.parent.name}`" for path in paths), "",
             "| model | " + " | ".join(f"run {i + 1}" for i in range(len(paths)))
             + " | overlap |", "|---" * (len(paths) + 2) + "|"]
    agree = 0
    models = [model for model in runs[0] if all(model in run for run in runs)]
    for model in models:
        every = [run[model] for run in runs]
        fine = overlap(every)
        agree += fine
        lines.append(f"| {model} | " + " | ".join(_text(*bracket) for bracket in every)
                     + f" | {'yes' if fine else '**no**'} |")
    lines += ["", f"{agree} of {len(models)} models' brackets overlap in every run."]
    return "\n".join(lines) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("runs", nargs="+", type=Path)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    return emit(measure(args.runs), args.out)


if __name__ == "__main__":
    raise SystemExit(main())
