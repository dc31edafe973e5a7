"""Two runs side by side (`python scripts/report.py A.json B.json --compare`): per scenario
of both, B's median over A's with the 95 % interval of that ratio, judged as an equivalence
test against a band (default ±5 %): **agree** (the interval lies inside the band),
**differ** (wholly outside it) or **undetermined** (neither: more rounds or runs needed).
The interval is bench.stats' (both runs' passes and rounds resampled, plus each median's
run-to-run term where it is known for the machine), so a drift the machine makes between
runs is inside it, not called a change.  Speedups are compared the same way.  The fixed
drift probe (bench.drift) is printed beside, as information; it decides nothing.
Writes compare.md and compare.csv.
"""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd

from bench import drift
from bench.report.keys import ROW_KEY
from bench.report.load import ReportError, Run, atomic_path, load_run, write_text
from bench.report.table import scenario_table
from bench.stats import (
    AGREE,
    BAND,
    DIFFER,
    UNDETERMINED,
    Interval,
    equivalence,
    ratio_interval,
)


def machine_drift(a: Run, b: Run) -> dict[str, float] | None:
    """How the fixed probe (bench.drift) moved from run A to run B: B's median reading over
    A's, per probe, and the CPU probe's spread within each run; None if either run has no
    probe (made before there was one)."""
    found_a, found_b = (drift.summary(run.info.drift_probes) for run in (a, b))
    if not found_a or not found_b:
        return None
    moved = {key: found_b[key] / found_a[key] for key in ("cpu_ms", "sleep_overshoot_ms",
                                                            "loopback_rtt_ms")
             if found_a[key] > 0}
    return {**moved, "cpu_spread_a": found_a["cpu_spread"],
            "cpu_spread_b": found_b["cpu_spread"]}


def _change(passes_a: list[list[float]], passes_b: list[list[float]], term_a: float,
            term_b: float) -> Interval:
    """The interval of median(B) / median(A): two runs, so both medians' rerun terms."""
    return ratio_interval(passes_b, passes_a, math.hypot(term_a, term_b))


def _speedup_change(a: pd.Series, b: pd.Series) -> Interval:
    """The interval of speedup(B) / speedup(A), from the two speedups' own intervals
    (independent runs: their log half-widths add as variances)."""
    values = (a["speedup"], a["speedup_low"], a["speedup_high"], b["speedup"],
              b["speedup_low"], b["speedup_high"])
    if any(pd.isna(value) or value <= 0 for value in values):
        return Interval(math.nan, math.nan, 0.0)
    spread = math.hypot(*(max(math.log(middle / low), math.log(high / middle))
                          for middle, low, high in (values[:3], values[3:])))
    middle = values[3] / values[0]
    return Interval(middle * math.exp(-spread), middle * math.exp(spread))


def compare_table(before: pd.DataFrame, after: pd.DataFrame, band: float = BAND
                  ) -> pd.DataFrame:
    """One row per scenario present in both runs: B/A, its interval and the verdict."""
    # One copy after the merge: the columns added below would otherwise each be inserted
    # into a frame of a few hundred columns.
    merged = before.merge(after, on=ROW_KEY, suffixes=("_a", "_b")).copy()
    if merged.empty:
        raise ReportError("the two runs have no scenario in common")
    changes = [_change(a, b, ta, tb) for a, b, ta, tb in zip(
        merged["rounds_by_pass_a"], merged["rounds_by_pass_b"], merged["run_to_run_a"],
        merged["run_to_run_b"], strict=True)]
    sides = [(row.filter(like="_a").rename(lambda k: k[:-2]),
              row.filter(like="_b").rename(lambda k: k[:-2])) for _, row in merged.iterrows()]
    speedups = [_speedup_change(a, b) for a, b in sides]
    merged = pd.concat([merged, pd.DataFrame({
        "ratio": merged["median_s_b"] / merged["median_s_a"],
        "ratio_low": [found.low for found in changes],
        "ratio_high": [found.high for found in changes],
        "verdict": [equivalence(found, band) for found in changes],
        "speedup_ratio": merged["speedup_b"] / merged["speedup_a"],
        "speedup_ratio_low": [found.low for found in speedups],
        "speedup_ratio_high": [found.high for found in speedups],
        "speedup_verdict": [equivalence(found, band) if found.known else "-"
                            for found in speedups],
    }, index=merged.index)], axis=1)
    return merged[[*ROW_KEY, "median_s_a", "median_s_b", "ratio", "ratio_low",
                   "ratio_high", "verdict", "speedup_a", "speedup_b", "speedup_ratio",
                   "speedup_ratio_low", "speedup_ratio_high", "speedup_verdict"]].copy()


def _span(middle: float, low: float, high: float) -> str:
    if pd.isna(middle):
        return "-"
    if pd.isna(low) or pd.isna(high):
        return f"{middle:.3f}"
    return f"{middle:.3f} ({low:.3f}-{high:.3f})"


def _drift_text(drift_seen: dict[str, float] | None) -> str:
    if drift_seen is None:
        return ("The fixed drift probe: not in one of the runs (made before there was "
                "one).\n\n")
    return (f"For information (it decides nothing), the fixed drift probe, B over A: "
            f"pure-Python CPU {drift_seen.get('cpu_ms', float('nan')):.3f}x, sleep overshoot "
            f"{drift_seen.get('sleep_overshoot_ms', float('nan')):.3f}x, loopback round trip "
            f"{drift_seen.get('loopback_rtt_ms', float('nan')):.3f}x; the CPU probe's spread "
            f"within A {drift_seen['cpu_spread_a']:.3f}x, within B "
            f"{drift_seen['cpu_spread_b']:.3f}x.\n\n")


def _counts(verdicts: pd.Series) -> str:
    found = verdicts[verdicts.isin([AGREE, DIFFER, UNDETERMINED])]
    return ", ".join(f"{int((found == word).sum())} {word}"
                     for word in (AGREE, DIFFER, UNDETERMINED)) + f" of {len(found)}"


def compare_markdown(table: pd.DataFrame, a: Path, b: Path,
                     drift_seen: dict[str, float] | None = None, band: float = BAND) -> str:
    shown = pd.DataFrame({
        "workload": table["workload"], "runner": table["runner"],
        "C": table["concurrency"], "tasks": table["tasks"],
        "A median (ms)": (table["median_s_a"] * 1000).map(lambda v: f"{v:.3g}"),
        "B median (ms)": (table["median_s_b"] * 1000).map(lambda v: f"{v:.3g}"),
        "B/A (95 % CI)": [_span(*values) for values in zip(
            table["ratio"], table["ratio_low"], table["ratio_high"], strict=True)],
        "median": table["verdict"],
        "speedup B/A (95 % CI)": [_span(*values) for values in zip(
            table["speedup_ratio"], table["speedup_ratio_low"], table["speedup_ratio_high"],
            strict=True)],
        "speedup": table["speedup_verdict"],
    })
    header = (f"A = {a}\n\nB = {b}\n\nEquivalence within ±{band:.0%}: medians "
              f"{_counts(table['verdict'])}; speedups {_counts(table['speedup_verdict'])}. "
              f"B/A < 1 means B is faster.  **agree**: B/A's 95 % interval lies within "
              f"1 ± {band:.0%}; **differ**: wholly outside it; **undetermined**: neither.  "
              "The interval resamples both runs' passes and rounds and adds each median's "
              "run-to-run term where it is known for the machine (bench/run_to_run.json), "
              "so what a rerun alone moves is not called a change.\n\n")
    header += _drift_text(drift_seen)
    return header + str(shown.to_markdown(index=False, disable_numparse=True)) + "\n"


def write_compare(a: Path, b: Path, out: Path | None, band: float = BAND) -> Path:
    runs = [load_run(path) for path in (a, b)]
    drift_seen = machine_drift(*runs)
    table = compare_table(scenario_table([runs[0]]), scenario_table([runs[1]]), band)
    out = out or b.parent
    out.mkdir(parents=True, exist_ok=True)
    with atomic_path(out / "compare.csv") as partial:
        table.to_csv(partial, index=False, float_format="%.6g")
    return write_text(out / "compare.md", compare_markdown(table, a, b, drift_seen, band))
