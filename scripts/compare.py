"""Two runs side by side (`python scripts/report.py A.json B.json --compare`): each scenario
of both, B's median over A's, whether the change is within the two medians' intervals,
about what the machine's own drift gives (the fixed probe of bench.drift), or more; and
whether the two runs' speedups agree.  Writes compare.md and compare.csv.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
from scipy.stats import mannwhitneyu

from bench import drift
from scripts.results import ReportError, Run, atomic_path, load_run, scenario_table, write_text

SIGNIFICANCE = 0.05  # Mann-Whitney U p-value below which two runs differ
# With 3 rounds a side the smallest two-sided p-value Mann-Whitney U can give is 0.1, so
# the test could never say "different"; below 4 rounds we fall back to IQR overlap.
MIN_ROUNDS_FOR_TEST = 4
SCENARIO_KEY = ["workload", "params", "tasks", "runner", "start_method", "client", "server",
                "concurrency"]
AGREEMENT = 0.05  # two runs' medians "agree" when within 5 % of each other


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


def _explained(ratio: float, half_a: float, half_b: float, cpu_drift: float | None) -> str:
    """Whether a row's change B/A is within the two medians' intervals ("within
    intervals"), about what the machine's own drift gives ("machine drift": the CPU probe
    moved as much, within the same intervals), or more than either explains ("exceeds")."""
    slack = (0.0 if pd.isna(half_a) else half_a) + (0.0 if pd.isna(half_b) else half_b)
    if abs(ratio - 1) <= slack:
        return "within intervals"
    if cpu_drift is not None and abs(ratio - cpu_drift) <= slack + 0.01 and \
            (ratio - 1) * (cpu_drift - 1) > 0:
        return "machine drift"
    return "exceeds"


def compare_table(before: pd.DataFrame, after: pd.DataFrame,
                  drift_seen: dict[str, float] | None = None) -> pd.DataFrame:
    """One row per scenario present in both runs: ratio after/before and whether it is real."""
    merged = before.merge(after, on=SCENARIO_KEY, suffixes=("_a", "_b"))
    if merged.empty:
        raise ReportError("the two runs have no scenario in common")
    merged["ratio"] = merged["median_s_b"] / merged["median_s_a"]
    merged["p_value"] = [
        float(mannwhitneyu(a, b, alternative="two-sided").pvalue)
        if min(len(a), len(b)) >= MIN_ROUNDS_FOR_TEST else float("nan")
        for a, b in zip(merged["rounds_data_a"], merged["rounds_data_b"], strict=True)]
    overlap = (merged["q1_s_b"] <= merged["q3_s_a"]) & (merged["q1_s_a"] <= merged["q3_s_b"])
    same = merged["p_value"].ge(SIGNIFICANCE).where(merged["p_value"].notna(), overlap)
    merged["verdict"] = same.map({True: "within noise", False: "different"})
    merged["agree"] = (merged["ratio"] - 1).abs() <= AGREEMENT
    # Speedups are ratios within one run: the machine's drift cancels in them, so two runs'
    # speedups should agree even where their medians moved together.
    merged["speedup_ratio"] = merged["speedup_b"] / merged["speedup_a"]
    merged["speedup_agree"] = ((merged["speedup_ratio"] - 1).abs() <= AGREEMENT).where(
        merged["speedup_ratio"].notna())
    cpu_drift = None if drift_seen is None else drift_seen.get("cpu_ms")
    merged["explained"] = [_explained(ratio, half_a, half_b, cpu_drift) for ratio, half_a, half_b
                           in zip(merged["ratio"], merged["ci_half_a"], merged["ci_half_b"],
                                  strict=True)]
    return merged[[*SCENARIO_KEY, "median_s_a", "median_s_b", "ci_half_a", "ci_half_b",
                   "precise_a", "precise_b", "ratio", "agree", "p_value", "verdict",
                   "explained", "speedup_a", "speedup_b", "speedup_ratio", "speedup_agree"]]


def _half(value: float, precise: bool) -> str:
    return "-" if pd.isna(value) else f"±{value:.1%}" + ("" if precise else " ⌛")


def _drift_text(drift_seen: dict[str, float] | None) -> str:
    if drift_seen is None:
        return ("The machine's drift is not known: a run made before the drift probe has "
                "none.\n\n")
    return (f"The machine's own drift, B over A, from the fixed probe taken at the start, "
            f"between workloads and at the end of each run: pure-Python CPU "
            f"{drift_seen.get('cpu_ms', float('nan')):.3f}x, sleep overshoot "
            f"{drift_seen.get('sleep_overshoot_ms', float('nan')):.3f}x, loopback round trip "
            f"{drift_seen.get('loopback_rtt_ms', float('nan')):.3f}x; the CPU probe's spread "
            f"within A {drift_seen['cpu_spread_a']:.3f}x, within B "
            f"{drift_seen['cpu_spread_b']:.3f}x. 'change is' says whether a row's B/A is "
            "within the two medians' intervals, about what the CPU probe moved (machine "
            "drift), or more than both explain (exceeds).\n\n")


def compare_markdown(table: pd.DataFrame, a: Path, b: Path,
                     drift_seen: dict[str, float] | None = None) -> str:
    shown = pd.DataFrame({
        "workload": table["workload"], "runner": table["runner"],
        "C": table["concurrency"], "tasks": table["tasks"],
        "A median (ms)": (table["median_s_a"] * 1000).map(lambda v: f"{v:.3g}"),
        "B median (ms)": (table["median_s_b"] * 1000).map(lambda v: f"{v:.3g}"),
        "A ±CI": [_half(v, ok) for v, ok in zip(table["ci_half_a"], table["precise_a"],
                                                 strict=True)],
        "B ±CI": [_half(v, ok) for v, ok in zip(table["ci_half_b"], table["precise_b"],
                                                 strict=True)],
        "B/A": table["ratio"].map(lambda v: f"{v:.3f}"),
        f"within {AGREEMENT:.0%}": table["agree"].map({True: "yes", False: "NO"}),
        "p (Mann-Whitney)": table["p_value"].map(lambda v: "-" if pd.isna(v) else f"{v:.3f}"),
        "verdict": table["verdict"],
        "change is": table["explained"],
        "speedup A / B (x)": [f"{a:.3g} / {b:.3g}" if not (pd.isna(a) or pd.isna(b)) else "-"
                              for a, b in zip(table["speedup_a"], table["speedup_b"],
                                              strict=True)],
        f"speedups within {AGREEMENT:.0%}": table["speedup_agree"].map(
            lambda same: "-" if pd.isna(same) else ("yes" if same else "NO")),
    })
    agree = int(table["agree"].sum())
    with_speedup = table["speedup_agree"].notna()
    speedups_agree = int(table.loc[with_speedup, "speedup_agree"].astype(bool).sum())
    header = (f"A = {a}\n\nB = {b}\n\n{agree} of {len(table)} medians agree within "
              f"{AGREEMENT:.0%}; {speedups_agree} of {int(with_speedup.sum())} speedups do. "
              "±CI = half-width of the 95 % interval of each median (⌛: "
              "wider than the run's precision target). "
              "B/A < 1 means B is faster. 'different' needs p < "
              f"{SIGNIFICANCE} over the rounds (Mann-Whitney U, two-sided); with fewer than "
              f"{MIN_ROUNDS_FOR_TEST} rounds a side, non-overlapping IQRs.\n\n")
    header += _drift_text(drift_seen)
    return header + str(shown.to_markdown(index=False, disable_numparse=True)) + "\n"


def write_compare(a: Path, b: Path, out: Path | None) -> Path:
    runs = [load_run(path) for path in (a, b)]
    drift_seen = machine_drift(*runs)
    table = compare_table(scenario_table([runs[0]]), scenario_table([runs[1]]), drift_seen)
    out = out or b.parent
    out.mkdir(parents=True, exist_ok=True)
    with atomic_path(out / "compare.csv") as partial:
        table.to_csv(partial, index=False, float_format="%.6g")
    return write_text(out / "compare.md", compare_markdown(table, a, b, drift_seen))
