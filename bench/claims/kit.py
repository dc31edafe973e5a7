"""What every claim module uses: the verdict words, effects with intervals judged against
a line, which rows may decide, row look-ups and the drawing of a panel.

A claim is decided only by effects whose rows the report calls citable and whose 95 %
interval lies wholly on one side of the claim's named line; anything else leaves the part
undecided, and an undecided part makes the verdict "inconclusive", with the reason and
what would settle it.

Claim modules are imported by the claims suite on the interpreter under test, where
pandas, SciPy and matplotlib need not be installed; so nothing here imports them at
module level.  Checks and panels receive the report's pandas objects and work through
their methods; SciPy is imported where the test runs.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from bench.runinfo import RunnerStyle
from bench.runners import RUNNERS

if TYPE_CHECKING:
    from bench.stats import Interval

HOLDS, LIMITS, FAILS = "holds", "holds with limits", "does not hold"
INCONCLUSIVE = "inconclusive"
MISSING = "not measured"
OTHER_COLOUR = "#8c564b"  # anything that is not a registered runner

Table = Any  # a pandas DataFrame of scenario rows (bench.report.table.scenario_table)
Row = Any  # one row of it (a pandas Series)
Axes = Any  # a matplotlib Axes
Outcome = bool | None  # a part of a claim: True holds, False does not, None undecided


def _flag(row: Row, column: str) -> bool:
    value = row.get(column) if hasattr(row, "get") else None
    return bool(value) and not (isinstance(value, float) and math.isnan(value))


def _cleared(row: Row, column: str) -> bool:
    """The row says False in `column` (a missing value or column says nothing)."""
    value = row.get(column) if hasattr(row, "get") else None
    return value is not None and not missing(value) and not bool(value)


def _label(row: Row) -> str:
    parts = [str(row.get("runner", "?"))]
    for column in ("start_method", "client"):
        value = row.get(column)
        if isinstance(value, str) and value:
            parts.append(value)
    return " ".join(parts)


def unfit(row: Row) -> str | None:
    """Why this row cannot decide a verdict whatever its interval says (the report's
    marks: failed, ⚠ noisy, ⚡ disturbed, ✗ meter error), or None if it can."""
    reasons = []
    if _flag(row, "failed_scenario"):
        reasons.append("failed")
    elif _cleared(row, "citable"):
        noise = row.get("noise")
        reasons.append("⚠ noisy" if missing(noise) else f"⚠ noise {float(noise):.0%}")
    if _flag(row, "disturbed"):
        reasons.append(f"⚡ disturbed ({float(row['neighbours']):.2f} cores of neighbours)"
                       if not missing(row.get("neighbours")) else "⚡ disturbed")
    if _flag(row, "meter_error"):
        reasons.append("✗ meter error")
    if _flag(row, "inflated_cpu"):
        reasons.append("✗ CPU per task above sequential's")
    return f"{_label(row)}: {', '.join(reasons)}" if reasons else None


def imprecise(row: Row) -> str | None:
    """⌛: the row was capped short of its precision target.  Its interval already carries
    that imprecision, so it keeps a verdict open only where the interval does not decide."""
    if not _cleared(row, "precise"):
        return None
    half = row.get("ci_half")
    return f"{_label(row)}: ⌛ capped short of its precision" + (
        "" if missing(half) else f" (±{float(half):.1%})")


FULL_LEVEL = "95 %"  # the level an interval must reach to decide


@dataclass(frozen=True)
class Effect:
    """One deciding comparison: an effect (a ratio of medians, or a median against a fixed
    amount) with its 95 % interval, judged against the claim's named line."""

    what: str  # e.g. "threads speedup over sequential"
    value: float
    low: float
    high: float
    line: float
    unit: str = "x"
    unfit: tuple[str, ...] = ()  # why its rows cannot decide (⚠, ⚡, ✗, failed)
    method: str = ""  # how the interval was had, when not the usual bootstrap
    imprecise: tuple[str, ...] = ()  # ⌛ rows: said when the interval straddles the line
    level: str = FULL_LEVEL  # the confidence the interval reaches ("range of 3, 75 %")

    @property
    def above(self) -> Outcome:
        """True: the whole interval lies above the line; False: the whole interval below;
        None: it straddles the line, there is no interval, or a row cannot decide.  A ⌛ row
        does not veto: its interval is wider for it, and decides only if it still clears
        the line."""
        if self.unfit or missing(self.low) or missing(self.high) or not self.full_level:
            return None
        if self.low > self.line:
            return True
        if self.high < self.line:
            return False
        return None

    @property
    def full_level(self) -> bool:
        """Whether the interval reaches 95 %: a range of too few values ("range of 3,
        56 %") is shown, but decides nothing."""
        return self.level == FULL_LEVEL

    @property
    def below(self) -> Outcome:
        found = self.above
        return None if found is None else not found

    @property
    def why_undecided(self) -> list[str]:
        if self.unfit:
            return list(self.unfit)
        if missing(self.low) or missing(self.high):
            return [f"{self.what}: too few values for an interval"]
        if not self.full_level:
            return [f"{self.what}: its interval is a {self.level} one, too few values for "
                    "95 %"]
        return [f"{self.what}: its interval straddles the {fmt(self.line, self.unit)} line",
                *self.imprecise]

    def text(self) -> str:
        span = "no interval" if missing(self.low) or missing(self.high) else \
            f"{self.level} CI {fmt(self.low, self.unit)}-{fmt(self.high, self.unit)}"
        method = f", {self.method}" if self.method else ""
        return (f"{self.what} {fmt(self.value, self.unit)} ({span}{method}) vs the "
                f"{fmt(self.line, self.unit)} line")


def fmt(value: float, unit: str = "x") -> str:
    """Three significant figures with a unit: '1.02x', '45.3 ms', '0.812 KiB'."""
    if missing(value):
        return "n/a"
    if unit == "s":
        return ms(value)
    joiner = "" if unit in ("x", "%") else " "
    return f"{sig3(value)}{joiner}{unit}"


def sig3(value: float) -> str:
    """Three significant figures, trailing zeros kept, no exponent: '1.00', '45.3', '1,234'."""
    if missing(value):
        return "n/a"
    if abs(value) >= 1000:
        return f"{value:,.0f}"
    return f"{value:#.3g}".rstrip(".")


def _passes(row: Row) -> list[list[float]]:
    """The row's rounds, pass by pass (one pass where the table has no split)."""
    found = row.get("rounds_by_pass") if hasattr(row, "get") else None
    if isinstance(found, list | tuple) and found:
        return [[float(v) for v in one] for one in found]
    data = row.get("rounds_data") if hasattr(row, "get") else None
    return [[float(v) for v in data]] if isinstance(data, list | tuple) else []


def _term(row: Row, column: str) -> float:
    value = row.get(column) if hasattr(row, "get") else None
    return 0.0 if value is None or missing(value) else float(value)


def ratio_term(top: Row, bottom: Row) -> float:
    """The run-to-run term of a ratio of two rows: a speedup's where both are of one run
    or one session of runs taking turns pass by pass (the machine's drift cancels in
    part), both medians' added as variances otherwise."""
    if (top.get("session") or top.get("source")) == (bottom.get("session") or
                                                      bottom.get("source")):
        return max(_term(top, "run_to_run_ratio"), _term(bottom, "run_to_run_ratio"))
    return math.hypot(_term(top, "run_to_run"), _term(bottom, "run_to_run"))


def _unfit_of(*rows: Row) -> tuple[str, ...]:
    return tuple(reason for row in rows if (reason := unfit(row)) is not None)


def _imprecise_of(*rows: Row) -> tuple[str, ...]:
    return tuple(reason for row in rows if (reason := imprecise(row)) is not None)


def _effect(what: str, value: float, found: Interval, line: float, rows: Sequence[Row],
            unit: str = "x", method: str = "", scale: float = 1.0) -> Effect:
    return Effect(what, value, found.low / scale, found.high / scale, line, unit,
                  _unfit_of(*rows), method, _imprecise_of(*rows), found.label())


def ratio(what: str, top: Row, bottom: Row, line: float) -> Effect:
    """median(top's rounds) / median(bottom's rounds), with bench.stats' interval (passes
    and rounds resampled, plus the run-to-run term)."""
    from bench.stats import ratio_interval

    value = float(top["median_s"]) / float(bottom["median_s"])
    found = ratio_interval(_passes(top), _passes(bottom), ratio_term(top, bottom))
    return _effect(what, value, found, line, (top, bottom))


def speedup(runner_row: Row, baseline: Row, line: float, what: str = "") -> Effect:
    """The baseline's round over this row's: above 1, this row is faster."""
    name = what or f"{_label(runner_row)} speedup over {_label(baseline)}"
    return ratio(name, baseline, runner_row, line)


def against(what: str, row: Row, amount: float, line: float) -> Effect:
    """This row's median over a fixed amount (e.g. one wait), with the median's own
    published interval (bench.stats) scaled alike."""
    from bench.stats import median_interval

    found = median_interval(_passes(row), _term(row, "run_to_run"))
    return _effect(what, float(row["median_s"]) / amount, found, line, (row,),
                   scale=amount)


def samples(row: Row, column: str) -> list[float]:
    data = row.get(column) if hasattr(row, "get") else None
    return [float(v) for v in data] if isinstance(data, list | tuple) else []


def sample_ratio(what: str, top: list[float], bottom: list[float], line: float,
                 rows: Sequence[Row] = (), method: str = "") -> Effect:
    """median(top) / median(bottom) of two sets of samples, with bench.stats' interval
    (a range, with the level it reaches, where the samples are too few for 95 %)."""
    from bench.stats import median, ratio_interval

    if not top or not bottom or median(bottom) <= 0:
        # No samples, or a bottom of nothing (a memory too small for the meter to see):
        # no ratio to judge.
        said = f"{method}; " if method else ""
        return Effect(what, math.nan, math.nan, math.nan, line, unfit=_unfit_of(*rows),
                      method=said + ("the denominator's median is 0: no ratio"
                                     if bottom and top else "no samples"))
    # Samples that are not rounds (memory, start-up) have no measured rerun spread: their
    # interval is within this run.
    return _effect(what, median(top) / median(bottom), ratio_interval([top], [bottom]),
                   line, rows, method=method)


def sample_median(what: str, values: list[float], line: float, unit: str, row: Row,
                  method: str = "") -> Effect:
    """The median of per-round values, with bench.stats' interval of a median."""
    from bench.stats import median, median_interval

    if not values:
        return Effect(what, math.nan, math.nan, math.nan, line, unit, _unfit_of(row), method)
    return _effect(what, median(values), median_interval([values]), line, (row,), unit,
                   method)


def all_of(parts: Sequence[Outcome]) -> Outcome:
    """Every part holds (True), some part does not (False), or the rest is undecided."""
    if any(part is False for part in parts):
        return False
    return True if all(part is True for part in parts) else None


def decide(core: Outcome, extras: Sequence[Outcome] | None = None) -> str:
    """A claim's verdict from its core part and what it adds: the core failing decides
    "does not hold"; an undecided core, or an undecided addition to a core that holds, is
    "inconclusive"; a core that holds with an addition that does not "holds with limits"."""
    if core is False:
        return FAILS
    if core is None:
        return INCONCLUSIVE
    extras = extras or []
    if all(part is True for part in extras):
        return HOLDS
    return LIMITS if any(part is False for part in extras) else INCONCLUSIVE


def undecided(effects: list[Effect], settle: str) -> str:
    """What kept the verdict open and what would settle it, for an inconclusive verdict."""
    reasons = [reason for effect in effects if effect.above is None
               for reason in effect.why_undecided]
    return "undecided: " + "; ".join(dict.fromkeys(reasons)) + f". To settle: {settle}"


def missing(value: object) -> bool:
    """None or nan: a value the run did not produce."""
    return value is None or (isinstance(value, float) and math.isnan(value))


def claim_rows(table: Table, key: str) -> Table:
    return table[table["claim"] == key]


def matrix_rows(table: Table, workload: str) -> Table:
    """The default-matrix rows of one workload (the rows an interpreters run has)."""
    return table[(table["claim"] == "") & (table["workload"] == workload)
                 & ~table["failed_scenario"]]


def top_row(rows: Table, runner: str) -> Row | None:
    """`runner`'s row at its highest concurrency in `rows`, or None."""
    mine = rows[rows["runner"] == runner]
    return None if mine.empty else mine.sort_values("concurrency").iloc[-1]


def speedup_of(rows: Table, runner: str, line: float, what: str = "") -> Effect | None:
    """`runner`'s speedup over sequential at its highest concurrency in `rows` (one
    interpreter's rows of one workload), judged against `line`; None if either is absent."""
    seq, row = one(rows, runner="sequential"), top_row(rows, runner)
    if seq is None or row is None:
        return None
    return speedup(row, seq, line, what or f"{runner} speedup over sequential")


def one(rows: Table, **where: object) -> Row | None:
    """The first row whose columns equal `where`, or None."""
    found = rows
    for column, value in where.items():
        found = found[found[column] == value]
    return None if found.empty else found.iloc[0]


def ms(seconds: float) -> str:
    """A duration to three significant figures: '45.3 ms', '1.20 s'."""
    if missing(seconds):
        return "n/a"
    return f"{sig3(seconds * 1000)} ms" if abs(seconds) < 1 else f"{sig3(seconds)} s"


# How the runs being reported showed their runners (bench.runinfo: colour, order, which is
# the baseline), set by bench.report.table.scenario_table; today's registry answers only for
# a runner the runs did not record (runs from before they did).
_RECORDED: dict[str, RunnerStyle] = {}


def remember_runners(styles: dict[str, RunnerStyle]) -> None:
    """The recorded styles of the runs about to be reported (replacing any earlier)."""
    _RECORDED.clear()
    _RECORDED.update(styles)


def _style(runner: str) -> RunnerStyle | None:
    if runner in _RECORDED:
        return _RECORDED[runner]
    known = RUNNERS.get(runner)
    if known is None:
        return None
    return RunnerStyle(known.colour, known.order, known.baseline, parallel=known.parallel)


def colour(runner: str) -> str:
    style = _style(runner)
    return style.colour if style is not None and style.colour else OTHER_COLOUR


def runner_order(runner: str) -> int:
    style = _style(runner)
    return style.order if style is not None else 1000


def is_baseline(runner: object) -> bool:
    """Whether `runner` is the one speedups are read against (one task at a time)."""
    style = _style(str(runner))
    return bool(style is not None and style.baseline)


def is_parallel(runner: object) -> bool:
    """Whether `runner` runs Python on several cores at once (as the run recorded it)."""
    style = _style(str(runner))
    return bool(style is not None and style.parallel)


def baseline_rows(runners: Any) -> Any:
    """A boolean Series: which of these rows' runners is the baseline."""
    return runners.map(is_baseline).astype(bool)


def baseline_name() -> str:
    """The baseline runner's name, as the runs recorded it (else the registry's)."""
    for name in [*_RECORDED, *RUNNERS]:
        if is_baseline(name):
            return name
    return ""
