"""Run to run: what a rerun moves (the run-to-run term of bench.stats), and whether the
published intervals hold on another run.

`measure_spread` measures, per workload, the SD on the log scale of each row's median and
speedup across back-to-back runs (the median over the workload's rows), pooled within
sessions where the runs come from several: a host that is slower on another day moves
every run of that day, which is not what a back-to-back rerun moves.  `check_markdown`
judges the intervals the report publishes: over every pair of runs and every row of
LONG_S or more, how often the two runs' 95 % intervals overlap, how often one run's median
(speedup) lies inside the other's interval (about 83 % for intervals that are exactly
right: the other run's figure has its own error too), and whether every workload's
decision names the same winner or the same tie.  With `leave_one_out`, each run's term is
measured from the other runs only, so no run is judged on its own data.

`saturation_brackets` and `measure_saturation` do the same for service runs: each model's
saturation bracket (the report's rule), and per workload the median over models of the
rerun SD of log(geometric middle of a closed bracket).
"""

from __future__ import annotations

import itertools
import math
import statistics
from pathlib import Path

import pandas as pd

from bench import run_to_run
from bench.ceilings import bounded_by_c
from bench.claims.c15_one_core import GROUP, MODEL, model_bracket
from bench.report.decision import best_of_each_model, verdict_of, workloads
from bench.report.keys import ROW_KEY
from bench.report.load import load_run
from bench.report.table import scenario_table
from bench.stats import Interval, rerun_bracket

Bracket = tuple[float | None, float | None]  # best kept, lowest not kept; None: open

LONG_S = 0.1  # rows of at least this median are judged (shorter ones: timer and scheduler)


def _keyed(table: pd.DataFrame) -> pd.DataFrame:
    keys = ["|".join("" if pd.isna(v) else str(v) for v in values)
            for values in table[ROW_KEY].itertuples(index=False)]
    return table.assign(key=keys).set_index("key")


SESSION_GAP_S = 1800  # runs started further apart than this are of different sessions


def sessions(starts: list[str]) -> list[int]:
    """Each run's session, numbered in time: a new session wherever a run started more
    than SESSION_GAP_S after the one before it in time (ISO times; a run whose time is
    unknown joins the session of the run listed before it)."""
    from datetime import datetime

    def when(start: str) -> float | None:
        try:
            return datetime.fromisoformat(start.replace("Z", "+00:00")).timestamp()
        except ValueError:
            return None

    times = [when(start) for start in starts]
    found: list[int | None] = [None] * len(starts)
    session, before = 0, None
    for index in sorted((i for i, t in enumerate(times) if t is not None),
                        key=lambda i: times[i] or 0.0):
        moment = times[index] or 0.0
        if before is not None and moment - before > SESSION_GAP_S:
            session += 1
        found[index], before = session, moment
    for index, session_of in enumerate(found):
        if session_of is None:
            found[index] = found[index - 1] if index else 0
    return [session_of or 0 for session_of in found]


def _sd(values: list[float], groups: list[int] | None = None) -> float:
    """The SD of log(values), pooled within groups (each group's own mean taken out: what
    a back-to-back rerun moves, not a day-to-day change of the host); NaN with fewer than
    two degrees of freedom."""
    groups = groups or [0] * len(values)
    by_group: dict[int, list[float]] = {}
    for value, group in zip(values, groups, strict=True):
        if value > 0 and not math.isnan(value):
            by_group.setdefault(group, []).append(math.log(value))
    squares = sum((x - statistics.fmean(xs)) ** 2 for xs in by_group.values() for x in xs)
    freedom = sum(len(xs) - 1 for xs in by_group.values())
    return math.sqrt(squares / freedom) if freedom >= 2 else math.nan


def measure_spread(tables: list[pd.DataFrame], machine: str, commits: list[str],
                   groups: list[int] | None = None) -> run_to_run.Spread:
    """Per workload, the median over its rows of the rerun SD of log(median), log(speedup),
    pooled within the sessions `groups` gives (default: one)."""
    keyed = [_keyed(table) for table in tables]
    common = set.intersection(*(set(table.index) for table in keyed))
    found: dict[str, dict[str, list[float]]] = {run_to_run.MEDIAN: {}, run_to_run.SPEEDUP: {}}
    for key in sorted(common):
        workload = str(keyed[0].loc[key, "workload"])
        for kind, column in ((run_to_run.MEDIAN, "median_s"), (run_to_run.SPEEDUP, "speedup")):
            if kind == run_to_run.SPEEDUP and str(keyed[0].loc[key, "runner"]) == "sequential":
                continue
            spread = _sd([float(table.loc[key, column]) for table in keyed], groups)
            if not math.isnan(spread):
                found[kind].setdefault(workload, []).append(spread)
    return run_to_run.Spread(
        machine, len(tables), max(groups or [0]) + 1, commits,
        {w: round(statistics.median(v), 5) for w, v in found[run_to_run.MEDIAN].items()},
        {w: round(statistics.median(v), 5) for w, v in found[run_to_run.SPEEDUP].items()})


def _inside(value: float, low: float, high: float) -> bool:
    return bool(low <= value <= high)


def calibration(tables: list[pd.DataFrame], groups: list[int] | None = None,
                across: bool = False) -> dict[str, tuple[int, int]]:
    """(hits, cases) for overlap and inside, of medians and of speedups, over the pairs of
    runs of one session (`across`: of different sessions)."""
    groups = groups or [0] * len(tables)
    columns = {"median": ("median_s", "ci_low_s", "ci_high_s"),
               "speedup": ("speedup", "speedup_low", "speedup_high")}
    needed = ["runner", *(column for names in columns.values() for column in names)]
    # Rows as plain dicts of the columns read: a pandas row per pair of runs cost seconds.
    keyed = [_keyed(table)[needed].to_dict("index") for table in tables]
    counts = {name: [0, 0] for name in ("median overlap", "median inside", "speedup overlap",
                                       "speedup inside")}
    for a, b in itertools.permutations(range(len(keyed)), 2):
        if (groups[a] != groups[b]) != across:
            continue
        for key in [key for key in keyed[a] if key in keyed[b]]:
            one, other = keyed[a][key], keyed[b][key]
            if min(one["median_s"], other["median_s"]) < LONG_S:
                continue
            for what, (value, low, high) in columns.items():
                if any(pd.isna(row[c]) for row in (one, other) for c in (value, low, high)):
                    continue
                if what == "speedup" and one["runner"] == "sequential":
                    continue
                counts[f"{what} inside"][0] += _inside(other[value], one[low], one[high])
                counts[f"{what} inside"][1] += 1
                if a < b:
                    counts[f"{what} overlap"][0] += bool(one[low] <= other[high]
                                                         and other[low] <= one[high])
                    counts[f"{what} overlap"][1] += 1
    return {name: (hits, cases) for name, (hits, cases) in counts.items()}


def decisions(table: pd.DataFrame) -> dict[str, str]:
    """Each workload's decision: its winner, or the models it calls tied."""
    matrix = table[table["claim"] == ""]
    return {heading.split("**")[1]: verdict_of(best_of_each_model(rows))
            for heading, rows in workloads(matrix, knobs=False)}


def _tables(paths: list[Path], leave_one_out: bool, within_only: bool = False
            ) -> list[pd.DataFrame]:
    runs = [load_run(path) for path in paths]
    if within_only:
        return [scenario_table([run], run_to_run.NONE) for run in runs]
    if not leave_one_out:
        return [scenario_table([run]) for run in runs]
    plain = [scenario_table([run], run_to_run.NONE) for run in runs]
    machine = run_to_run.machine_of(runs[0].machine)
    groups = sessions([run.datetime for run in runs])
    return [rewidened(table, measure_spread(
        [t for j, t in enumerate(plain) if j != i], machine, [],
        [g for j, g in enumerate(groups) if j != i]))
        for i, table in enumerate(plain)]


def rewidened(plain: pd.DataFrame, spread: run_to_run.Spread) -> pd.DataFrame:
    """A table made with no run-to-run term, its median and speedup intervals widened by
    `spread`'s terms: what scenario_table gives with that spread for the columns the check
    reads (the same bootstrap, SEED fixed, is not drawn again)."""
    table = plain.copy()
    for column, low, high, kind in (("median_s", "ci_low_s", "ci_high_s", run_to_run.MEDIAN),
                                    ("speedup", "speedup_low", "speedup_high",
                                     run_to_run.SPEEDUP)):
        spans = [Interval(a, b).widened(middle, spread.term(workload, kind))
                 if not (pd.isna(a) or pd.isna(b) or pd.isna(middle)) else None
                 for middle, a, b, workload in zip(table[column], table[low], table[high],
                                                   table["workload"], strict=True)]
        table[low] = [span.low if span else a for span, a in zip(spans, table[low],
                                                                  strict=True)]
        table[high] = [span.high if span else b for span, b in zip(spans, table[high],
                                                                   strict=True)]
    return table


def _shares(found: dict[str, tuple[int, int]]) -> list[str]:
    return ["| check | share | cases |", "|---|---|---|"] + [
        f"| {name} | {hits / cases:.1%} | {cases} |" if cases else f"| {name} | - | 0 |"
        for name, (hits, cases) in found.items()]


def check_markdown(paths: list[Path], leave_one_out: bool, within_only: bool = False) -> str:
    tables = _tables(paths, leave_one_out, within_only)
    groups = sessions([load_run(path).datetime for path in paths])
    found = calibration(tables, groups)
    lines = [f"# Run to run: {len(paths)} runs", "",
             "Runs: " + ", ".join(f"`{path.name}`" for path in paths) + ".", "",
             "Run-to-run term: " + ("none: intervals within each run only." if within_only
                                    else "each run's from the other runs only (leave one "
                                    "out)." if leave_one_out else
                                    "the committed one (bench/run_to_run.json)."), "",
             f"Rows of {LONG_S * 1000:.0f} ms or more, every pair of back-to-back runs (of "
             f"one session: {max(groups) + 1} here):", "", *_shares(found)]
    if max(groups):
        lines += ["", "For information, pairs of runs of different sessions (another day, "
                  "perhaps another host of the same kind: what a back-to-back rerun's term "
                  "does not promise):", "", *_shares(calibration(tables, groups, across=True))]
    decided = [decisions(table) for table in tables]
    lines += ["", "Decisions per workload (the same in every run?):", ""]
    for workload in decided[0]:
        said = {found.get(workload, "-") for found in decided}
        lines.append(f"- {workload}: {'same' if len(said) == 1 else 'DIFFERENT'}: "
                     + " / ".join(sorted(said)))
    return "\n".join(lines) + "\n"




def saturation_brackets(table: pd.DataFrame) -> dict[str, tuple[Bracket, float, bool]]:
    """Per model ('workload: model'), its bracket from fit rows, its row's rerun term, and
    whether its slots bounded it (then the bracket is the harness's, not the model's)."""
    rows = table[table["offered_rate"].notna()] if "offered_rate" in table else table.iloc[0:0]
    found: dict[str, tuple[Bracket, float, bool]] = {}
    for key, model in rows.groupby(GROUP[:1] + MODEL, sort=False, dropna=False):
        best, above = model_bracket(model, fit_only=True)
        listed = [row for _, row in model.iterrows()]
        term = model["run_to_run_saturation"].iloc[0] if "run_to_run_saturation" in model \
            else 0.0
        capped = model["runner"].iloc[0] != "sequential" and bounded_by_c(listed, best, above)
        found[f"{key[0]}: {key[2]}"] = ((best, above), float(term or 0.0), bool(capped))
    return found


def _middles(tables: list[pd.DataFrame]) -> dict[str, list[float | None]]:
    """Per model, each run's saturation: the geometric middle of a closed bracket its
    slots did not bound, else None."""
    runs = [saturation_brackets(table) for table in tables]
    return {model: [math.sqrt(run[model][0][0] * run[model][0][1])  # type: ignore[operator]
                    if model in run and run[model][0][0] and run[model][0][1]
                    and not run[model][2] else None for run in runs]
            for model in sorted(set().union(*runs))}


def _known(values: list[float | None], groups: list[int]) -> tuple[list[float], list[int]]:
    kept = [(value, group) for value, group in zip(values, groups, strict=True) if value]
    return [value for value, _ in kept], [group for _, group in kept]


def measure_saturation(tables: list[pd.DataFrame], groups: list[int] | None = None
                       ) -> tuple[dict[str, float], dict[str, float]]:
    """Per workload: the median over models of the rerun SD of log(saturation), and the
    median over pairs of models of the rerun SD of log(one's saturation / the other's in
    the same run), pooled within the sessions `groups` gives; a model or pair with fewer
    than two degrees of freedom is left out."""
    middles = _middles(tables)
    groups = groups or [0] * len(tables)
    alone: dict[str, list[float]] = {}
    paired: dict[str, list[float]] = {}
    for model, found in middles.items():
        workload = model.split(":")[0]
        spread = _sd(*_known(found, groups))
        if not math.isnan(spread):
            alone.setdefault(workload, []).append(spread)
        for other, theirs in middles.items():
            if other.split(":")[0] != workload or other <= model:
                continue
            spread = _sd(*_known([a / b if a and b else None
                                  for a, b in zip(found, theirs, strict=True)], groups))
            if not math.isnan(spread):
                paired.setdefault(workload, []).append(spread)
    return ({w: round(statistics.median(v), 5) for w, v in alone.items()},
            {w: round(statistics.median(v), 5) for w, v in paired.items()})


TERMS = ("committed", "none", "leave-one-out")


def overlap(every: list[Bracket]) -> bool:
    """Whether brackets [a, b) all share a point; an open end reaches infinity."""
    low = max((best or 0.0) for best, _ in every)
    high = min((above if above is not None else math.inf) for _, above in every)
    return low < high


def _bracket_text(bracket: Bracket) -> str:
    best, above = bracket
    return f"[{best or 0:,.0f}, {'open' if above is None else f'{above:,.0f}'})"


def _run_name(path: Path) -> str:
    """A run by its folder (`.../RUN/benchmark.json`), else by its file's name."""
    return path.parent.name if path.name == "benchmark.json" else path.stem


def _service_tables(paths: list[Path], term: str) -> list[pd.DataFrame]:
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


def saturation_check_markdown(paths: list[Path], term: str = "committed") -> str:
    """Per model, each run's bracket widened by the term (`TERMS`) and whether all runs'
    overlap; a model its slots bounded in a run is marked (that bracket is the harness's
    or the configuration's limit, not the model's)."""
    runs = [saturation_brackets(table) for table in _service_tables(paths, term)]
    said = {"committed": "the committed one (bench/run_to_run.json)",
            "none": "none: each run's brackets alone",
            "leave-one-out": "each run's from the other runs only"}[term]
    lines = [f"# Saturation brackets of {len(paths)} back-to-back runs", "",
             "Runs: " + ", ".join(f"`{_run_name(path)}`" for path in paths) + ".", "",
             f"Run-to-run term: {said}.  Each cell: the run's bracket, then the bracket "
             "widened by the term (what a rerun should fall in).", "",
             "| model | " + " | ".join(f"run {i + 1}" for i in range(len(paths)))
             + " | overlap |", "|---" * (len(paths) + 2) + "|"]
    agree = judged = pairs = paired = 0
    models = [model for model in runs[0] if all(model in run for run in runs)]
    for model in models:
        cells, wide, bounded = [], [], False
        for run in runs:
            bracket, found, capped = run[model]
            widened = rerun_bracket(bracket[0] or None, bracket[1], found)
            wide.append(widened)
            bounded = bounded or capped
            cells.append(_bracket_text(bracket) + (f" → {_bracket_text(widened)}" if found else "")
                         + (" (bounded by its slots)" if capped else ""))
        judged += 1
        fine = overlap(wide)
        agree += fine
        for one, other in itertools.combinations(wide, 2):
            pairs += 1
            paired += overlap([one, other])
        verdict = ("yes" if fine else "**no**") + (
            " (bounded by its slots in a run: that bracket is its slots', not its own)"
            if bounded else "")
        lines.append(f"| {model} | " + " | ".join(cells) + f" | {verdict} |")
    lines += ["", f"{agree} of {judged} models' brackets overlap in every run; "
              f"{paired} of {pairs} pairs of runs' brackets of a model overlap."]
    return "\n".join(lines) + "\n"
