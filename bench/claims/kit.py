"""What every claim module uses: the verdict words, the significance test, row look-ups
and the drawing of a panel.

Claim modules are imported by the claims suite on the interpreter under test, where
pandas, SciPy and matplotlib need not be installed; so nothing here imports them at
module level.  Checks and panels receive the report's pandas objects and work through
their methods; SciPy is imported where the test runs.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from bench.runners import RUNNERS

if TYPE_CHECKING:
    from bench.claims.sizes import Sizes
    from bench.scenario import ScenarioSpec

HOLDS, LIMITS, FAILS, SAME = "holds", "holds with limits", "does not hold", \
    "no measurable difference"
MISSING = "not measured"
SIGNIFICANCE = 0.05  # one-sided Mann-Whitney U p-value for "A is faster than B"
OTHER_COLOUR = "#8c564b"  # anything that is not a registered runner

Table = Any  # a pandas DataFrame of scenario rows (scripts.results.scenario_table)
Row = Any  # one row of it (a pandas Series)
Axes = Any  # a matplotlib Axes


def no_scenarios(sizes: Sizes) -> list[ScenarioSpec]:
    return []


@dataclass(frozen=True)
class Claim:
    """One claim: what it says, the scenarios that test it, its check and its chart panel."""

    key: str
    statement: str  # the article's claim, in our words
    check: Callable[[Table], Verdict]
    panel: Callable[[Axes, Table], None]
    scenarios: Callable[[Sizes], list[ScenarioSpec]] = no_scenarios
    # True: decided from the default matrix of an interpreters run (`make interpreters`),
    # not from the claims suite.
    matrix: bool = False


@dataclass(frozen=True)
class Verdict:
    claim: Claim
    verdict: str
    evidence: str  # short: the numbers that decided it, with the thresholds they met
    details: str = ""  # everything else worth knowing, shown below the claims table
    chart: str = "claims.png"


def faster(a: list[float], b: list[float]) -> float:
    """p-value that rounds `a` are faster (smaller) than rounds `b`; nan if too few."""
    if min(len(a), len(b)) < 3:
        return math.nan
    from scipy.stats import mannwhitneyu  # the report's environment has SciPy

    return float(mannwhitneyu(a, b, alternative="less").pvalue)


def significant(p: float) -> bool:
    return not math.isnan(p) and p < SIGNIFICANCE


def missing(value: object) -> bool:
    """None or nan: a value the run did not produce."""
    return value is None or (isinstance(value, float) and math.isnan(value))


def claim_rows(table: Table, key: str) -> Table:
    return table[table["claim"] == key]


def matrix_rows(table: Table, workload: str) -> Table:
    """The default-matrix rows of one workload (the rows an interpreters run has)."""
    return table[(table["claim"] == "") & (table["workload"] == workload)
                 & ~table["failed_scenario"]]


def speedup_of(rows: Table, runner: str) -> tuple[float, float, Row | None]:
    """(speedup over sequential, p-value that it is faster, the row) for `runner` at its
    highest concurrency in `rows` (one interpreter's rows of one workload)."""
    seq = one(rows, runner="sequential")
    mine = rows[rows["runner"] == runner]
    if seq is None or mine.empty:
        return math.nan, math.nan, None
    row = mine.sort_values("concurrency").iloc[-1]
    return (float(seq["median_s"]) / float(row["median_s"]),
            faster(row["rounds_data"], seq["rounds_data"]), row)


def one(rows: Table, **where: object) -> Row | None:
    """The first row whose columns equal `where`, or None."""
    found = rows
    for column, value in where.items():
        found = found[found[column] == value]
    return None if found.empty else found.iloc[0]


def ms(seconds: float) -> str:
    if missing(seconds):
        return "n/a"
    return f"{seconds * 1000:,.1f} ms" if seconds < 1 else f"{seconds:,.3f} s"


def p_text(p: float, tested: str = "") -> str:
    """A p-value with what it tests, e.g. "asyncio faster than sequential: p=0.004"."""
    value = "p=n/a" if math.isnan(p) else f"p={p:.3f}"
    return f"{tested}: {value}" if tested else value


def colour(runner: str) -> str:
    known = RUNNERS.get(runner)
    return known.colour if known is not None else OTHER_COLOUR


def runner_order(runner: str) -> int:
    known = RUNNERS.get(runner)
    return known.order if known is not None else 1000


def bars(ax: Axes, labels: list[str], values: list[float], colours: list[str],
         errors: list[list[float]] | None = None) -> None:
    x = list(range(len(labels)))
    ax.bar(x, values, 0.6, color=colours, yerr=errors, capsize=3)
    ax.set_xticks(x, labels, fontsize=7)


def speedups_by_interpreter(ax: Axes, rows: Table, runners: tuple[str, ...]) -> None:
    """Bars of each runner's cpu speedup over sequential, interpreter by interpreter."""
    cpu = matrix_rows(rows, "cpu")
    labels, values, colours = [], [], []
    for interpreter, mine in cpu.groupby("interpreter", sort=False):
        for runner in runners:
            speedup, _, row = speedup_of(mine, runner)
            if row is not None:
                labels.append(f"{interpreter}\n{runner}")
                values.append(speedup)
                colours.append(colour(runner))
    bars(ax, labels, values, colours)
    ax.axhline(1.0, color="black", linestyle="--", linewidth=1, label="sequential")
    ax.set_ylabel("cpu: speedup over sequential (x)")


def points(ax: Axes, labels: list[str], values: list[float], colours: list[str]) -> None:
    """Markers for values on a log axis, where a bar's length would mean nothing."""
    x = list(range(len(labels)))
    ax.scatter(x, values, s=60, color=colours, zorder=3)
    ax.set_xticks(x, labels, fontsize=7)
    ax.set_xlim(-0.6, len(labels) - 0.4)


def iqr_errors(rows: Table, scale: float = 1.0) -> list[list[float]]:
    """Lower and upper error-bar lengths from each row's quartiles."""
    return [[max(0.0, (m - q1) * scale) for m, q1 in zip(rows["median_s"], rows["q1_s"],
                                                          strict=True)],
            [max(0.0, (q3 - m) * scale) for m, q3 in zip(rows["median_s"], rows["q3_s"],
                                                          strict=True)]]
