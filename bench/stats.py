"""The suite's statistics, in one place: every median, percentile and interval is made here.

- **Median**: the usual one (the mean of the two middle values for an even count).
- **Percentile**: nearest rank (the value at rank ceil(q * n)), so a p99 is a real task's
  latency, as HdrHistogram and wrk2 report it.
- **Interval of a median within one pass of rounds**: order statistics (no distribution
  assumed), pure Python, so an interpreter under test can stop its passes on it.  With too
  few values for 95 % it says the level it does reach ("range of n").
- **Interval of a median or of a ratio of medians over passes**: a two-level bootstrap
  (passes resampled, then the rounds within each chosen pass), so a difference between
  passes widens it; seeded, so a report is the same each time it is made.
- **Run-to-run term**: what a rerun moves that no pass of one run can see (the machine's
  drift over minutes, a new process), measured from back-to-back runs
  (bench.run_to_run) and added on the log scale.  An interval is a promise about the next
  run, not only about this one.
- **Equivalence**: two runs agree when the interval of B/A lies inside a band around 1,
  differ when it lies wholly outside, and are undetermined otherwise.

Only the bootstrap needs NumPy; it is imported where it is used.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

CONFIDENCE = 0.95
Z95 = 1.959963984540054  # the normal quantile of a two-sided 95 % interval
RESAMPLES = 2000
SEED = 0
FEWEST_FOR_95 = 6  # the fewest values whose order statistics give a 95 % median interval

Passes = Sequence[Sequence[float]]


def median(values: Sequence[float]) -> float:
    """The median of `values` (NaN for none)."""
    return float(statistics.median(values)) if len(values) else math.nan


def percentile(values: Sequence[float], q: float) -> float | None:
    """The nearest-rank q-th percentile (q from 0 to 100) of `values`; None for none."""
    if not values:
        return None
    ordered = sorted(values)
    rank = math.ceil(q / 100 * len(ordered))
    return float(ordered[min(len(ordered), max(1, rank)) - 1])


def _below(n: int, k: int) -> float:
    """P(Binomial(n, 1/2) < k): the chance that fewer than k of n values lie below the
    median."""
    return sum(math.comb(n, i) for i in range(k)) / math.pow(2, n)


@dataclass(frozen=True)
class Interval:
    """An interval with the confidence it reaches: 0.95, or less where the values are too
    few (then it is their range, `ranged`)."""

    low: float
    high: float
    level: float = CONFIDENCE
    ranged: bool = False
    samples: int = 0
    run_to_run: float = 0.0  # relative SD of a rerun added (log scale); 0: within one run

    @property
    def known(self) -> bool:
        return not (math.isnan(self.low) or math.isnan(self.high))

    def half(self, middle: float) -> float:
        """The larger side as a share of `middle`."""
        return max(middle - self.low, self.high - middle) / middle

    def label(self) -> str:
        """'95 %', or what a short sample reaches: 'range of 3, 75 %'."""
        if self.ranged:
            return f"range of {self.samples}, {self.level:.0%}".replace("%", " %")
        return f"{self.level:.0%}".replace("%", " %")

    def widened(self, middle: float, run_to_run: float) -> Interval:
        """This interval with a rerun's relative SD added in quadrature on the log scale
        (a ratio's terms add as variances): what the next run's figure should fall in."""
        if run_to_run <= 0 or not self.known or middle <= 0 or self.low <= 0:
            return self
        extra = Z95 * run_to_run

        def side(distance: float) -> float:
            return math.hypot(distance, extra)

        return Interval(middle * math.exp(-side(math.log(middle / self.low))),
                        middle * math.exp(side(math.log(self.high / middle))),
                        self.level, self.ranged, self.samples, run_to_run)


NO_INTERVAL = Interval(math.nan, math.nan, 0.0)


def order_interval(values: Sequence[float], confidence: float = CONFIDENCE) -> Interval:
    """The distribution-free interval of the median of `values` (order statistics): the
    narrowest symmetric pair of ranks that covers the median with at least `confidence`;
    with too few values, their whole range and the level it reaches."""
    n = len(values)
    if n < 2:
        return NO_INTERVAL
    ordered = sorted(values)
    k = 1  # ranks k and n - k + 1 (1-based)
    while k + 1 <= n // 2 and 1 - 2 * _below(n, k + 1) >= confidence:
        k += 1
    level = 1 - 2 * _below(n, k)
    return Interval(float(ordered[k - 1]), float(ordered[n - k]), level,
                    ranged=level < confidence, samples=n)


def half_width(values: Sequence[float]) -> float | None:
    """The 95 % order-statistics interval's larger side as a share of the median; None
    where the values cannot reach 95 %."""
    found = order_interval(values)
    if not found.known or found.ranged:
        return None
    return found.half(median(values))


def _flat(passes: Passes) -> list[float]:
    return [float(value) for one in passes for value in one]


def _medians(passes: Passes, resamples: int, rng: Any) -> Any:
    """`resamples` bootstrap medians: passes drawn with replacement, then each drawn pass's
    rounds with replacement, pooled.  Vectorised: passes padded with NaN to one length."""
    import numpy as np

    kept = [np.asarray(one, dtype=float) for one in passes if len(one)]
    sizes = np.array([len(one) for one in kept])
    padded = np.full((len(kept), int(sizes.max())), np.nan)
    for index, one in enumerate(kept):
        padded[index, :len(one)] = one
    draw = rng.integers(0, len(kept), size=(resamples, len(kept)))
    # Each drawn pass's rounds, drawn from that pass (a uniform rank within its own size).
    width = int(sizes.max())
    ranks = (rng.random((resamples, len(kept), width)) * sizes[draw][:, :, None]).astype(int)
    values = padded[draw[:, :, None], ranks]
    values[np.arange(width)[None, None, :] >= sizes[draw][:, :, None]] = np.nan
    return np.nanmedian(values.reshape(resamples, -1), axis=1)


def _short(passes: Passes) -> bool:
    return len(_flat(passes)) < FEWEST_FOR_95


def median_interval(passes: Passes, run_to_run: float = 0.0,
                    resamples: int = RESAMPLES) -> Interval:
    """The 95 % interval of the median of all rounds of all passes (two-level bootstrap),
    widened by the run-to-run term; a range of n where there are too few rounds."""
    values = _flat(passes)
    if _short(passes):
        return order_interval(values).widened(median(values), run_to_run)
    import numpy as np

    found: Any = np.percentile(_medians(passes, resamples, np.random.default_rng(SEED)),
                               [2.5, 97.5])
    return Interval(float(found[0]), float(found[1]), samples=len(values)).widened(
        median(values), run_to_run)


def ratio_interval(top: Passes, bottom: Passes, run_to_run: float = 0.0,
                   resamples: int = RESAMPLES) -> Interval:
    """The 95 % interval of median(top) / median(bottom), each side bootstrapped on two
    levels and apart; `run_to_run` is the ratio's own rerun SD (both sides' terms added as
    variances).  With too few rounds on a side, the range of what the values allow."""
    a, b = _flat(top), _flat(bottom)
    if not a or not b:
        return NO_INTERVAL
    middle = median(a) / median(b)
    if _short(top) or _short(bottom):
        span_a, span_b = order_interval(a), order_interval(b)
        if not (span_a.known and span_b.known) or span_b.low <= 0:
            return NO_INTERVAL  # a bottom that may be 0 leaves the ratio unbounded
        return Interval(span_a.low / span_b.high, span_a.high / span_b.low,
                        span_a.level * span_b.level, ranged=True,
                        samples=min(len(a), len(b))).widened(middle, run_to_run)
    import numpy as np

    rng = np.random.default_rng(SEED)
    draws = _medians(top, resamples, rng) / _medians(bottom, resamples, rng)
    found: Any = np.percentile(draws, [2.5, 97.5])
    return Interval(float(found[0]), float(found[1]),
                    samples=min(len(a), len(b))).widened(middle, run_to_run)


def rerun_bracket(best: float | None, above: float | None, run_to_run: float
                  ) -> tuple[float | None, float | None]:
    """A saturation bracket [best kept, lowest not kept) widened by a rerun's relative SD
    of a saturation, as `Interval.widened` widens an interval about its geometric middle:
    where a rerun's saturation on this machine should fall.  An open end stays open."""
    if run_to_run <= 0:
        return best, above
    if best is None or above is None:
        factor = math.exp(Z95 * run_to_run)
        return (None if best is None else best / factor,
                None if above is None else above * factor)
    wide = Interval(best, above).widened(math.sqrt(best * above), run_to_run)
    return wide.low, wide.high


BAND = 0.05  # a ratio within 1 ± BAND is no change (--compare) and no lead (the decision)
AGREE = "agree"
DIFFER = "differ"
UNDETERMINED = "undetermined"


def equivalence(interval: Interval, band: float) -> str:
    """Whether a ratio B/A with this interval is 1 within ±band (agree), wholly outside
    the band (differ), or neither yet (undetermined)."""
    if not interval.known:
        return UNDETERMINED
    if 1 - band <= interval.low and interval.high <= 1 + band:
        return AGREE
    if interval.high < 1 - band or interval.low > 1 + band:
        return DIFFER
    return UNDETERMINED
