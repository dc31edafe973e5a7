"""bench.stats: one median, one percentile, the intervals and the equivalence test."""

from __future__ import annotations

import math
import random

import pytest

from bench.stats import (
    AGREE,
    DIFFER,
    UNDETERMINED,
    Interval,
    equivalence,
    median,
    median_interval,
    order_interval,
    percentile,
    ratio_interval,
    rerun_bracket,
)


def test_percentile_is_nearest_rank_a_real_value() -> None:
    values = [float(v) for v in range(1, 101)]
    assert percentile(values, 99) == 99.0
    assert percentile(values, 50) == 50.0
    assert percentile(values, 100) == 100.0
    assert percentile([0.3, 0.1, 0.2], 50) == 0.2
    assert percentile([7.0], 99) == 7.0
    assert percentile([], 50) is None
    assert percentile([1.0, 2.0], 99) in (1.0, 2.0)  # never between two values


def test_median_of_an_even_count_is_the_middle_pair_mean() -> None:
    assert median([4.0, 1.0, 3.0, 2.0]) == 2.5
    assert math.isnan(median([]))


def test_order_interval_reaches_95_from_six_values_and_says_less_below() -> None:
    six = [1.0, 1.1, 0.9, 1.05, 0.95, 1.02]
    found = order_interval(six)
    assert (found.low, found.high) == (min(six), max(six)) and not found.ranged
    assert found.level >= 0.95
    three = order_interval([1.0, 2.0, 3.0])
    assert three.ranged and three.level == pytest.approx(0.75)
    assert three.label() == "range of 3, 75 %"
    five = order_interval([1.0, 2.0, 3.0, 4.0, 5.0])
    assert five.ranged and five.level == pytest.approx(1 - 2 / 32)
    assert not order_interval([1.0]).known


def test_interval_contains_the_median_and_narrows_as_rounds_agree() -> None:
    rng = random.Random(1)
    loose = [[1 + rng.gauss(0, 0.05) for _ in range(10)] for _ in range(3)]
    tight = [[1 + rng.gauss(0, 0.005) for _ in range(10)] for _ in range(3)]
    for passes in (loose, tight):
        found = median_interval(passes)
        assert found.low <= median([v for one in passes for v in one]) <= found.high
    assert median_interval(tight).half(1.0) < median_interval(loose).half(1.0)


def test_a_difference_between_passes_widens_the_interval() -> None:
    """The same rounds, split into passes that disagree, give a wider interval than as one
    pass: the pass is resampled, so drift between passes is carried."""
    rng = random.Random(2)
    passes = [[level + rng.gauss(0, 0.01) for _ in range(6)]
              for level in (0.97, 0.99, 1.0, 1.01, 1.03)]
    pooled = [[v for one in passes for v in one]]
    split, one = median_interval(passes), median_interval(pooled)
    assert split.high - split.low > 1.3 * (one.high - one.low)


def test_two_level_interval_covers_the_true_median_despite_pass_drift() -> None:
    """Simulated runs whose passes each drift by a random amount: the two-level interval
    holds the centre in most runs, the one-level order interval of the pooled rounds in
    far fewer (it treats drifted rounds as independent)."""
    rng = random.Random(3)
    two_level = one_level = 0
    runs = 120
    for _ in range(runs):
        passes = [[shift + rng.gauss(0, 0.01) for _ in range(4)]
                  for shift in (1 + rng.gauss(0, 0.03) for _ in range(7))]
        found = median_interval(passes, resamples=500)
        two_level += found.low <= 1.0 <= found.high
        flat = order_interval([v for one in passes for v in one])
        one_level += flat.low <= 1.0 <= flat.high
    assert two_level / runs >= 0.85
    assert one_level < two_level


def test_run_to_run_term_widens_on_the_log_scale() -> None:
    point = Interval(2.0, 2.0, samples=10)
    wide = point.widened(2.0, 0.05)
    assert wide.low == pytest.approx(2.0 * math.exp(-1.959963984540054 * 0.05))
    assert wide.high == pytest.approx(2.0 * math.exp(1.959963984540054 * 0.05))
    assert wide.run_to_run == 0.05
    assert Interval(1.0, 3.0).widened(2.0, 0.0) == Interval(1.0, 3.0)
    some = Interval(1.9, 2.1)
    assert some.widened(2.0, 0.02).low < 1.9 and some.widened(2.0, 0.02).high > 2.1


def test_ratio_interval_holds_the_ratio_and_says_its_level_when_short() -> None:
    base = [[1.0, 1.01, 0.99, 1.0, 1.02, 0.98]]
    half = [[0.5, 0.505, 0.495, 0.5, 0.51, 0.49]]
    found = ratio_interval(base, half)
    assert found.low <= 2.0 <= found.high and found.level == 0.95
    short = ratio_interval([[1.0, 1.1, 0.9]], [[0.5, 0.55, 0.45]])
    assert short.ranged and short.level == pytest.approx(0.75 * 0.75)
    assert short.low == pytest.approx(0.9 / 0.55) and short.high == pytest.approx(1.1 / 0.45)
    assert not ratio_interval([[1.0]], [[2.0]]).known
    assert not ratio_interval([], base).known


@pytest.mark.parametrize(("low", "high", "said"), [
    (0.97, 1.03, AGREE), (1.07, 1.2, DIFFER), (0.7, 0.9, DIFFER), (0.97, 1.08, UNDETERMINED),
    (math.nan, math.nan, UNDETERMINED)])
def test_equivalence_against_a_band(low: float, high: float, said: str) -> None:
    assert equivalence(Interval(low, high), 0.05) == said


def test_a_saturation_bracket_widens_about_its_middle_and_open_ends_stay_open() -> None:
    assert rerun_bracket(300.0, 330.0, 0.0) == (300.0, 330.0)
    low, high = rerun_bracket(300.0, 330.0, 0.1)
    assert low is not None and high is not None
    assert low < 300.0 < 330.0 < high
    assert math.isclose(low * high, 300.0 * 330.0, rel_tol=1e-9)
    # The bracket's own half-width and the rerun's 95 % move add in quadrature.
    half = math.hypot(math.log(330.0 / 300.0) / 2, 1.959963984540054 * 0.1)
    assert math.isclose(math.log(high / low) / 2, half, rel_tol=1e-9)
    assert rerun_bracket(300.0, None, 0.1)[1] is None
    assert rerun_bracket(None, 330.0, 0.1)[0] is None


def test_a_ratio_over_a_bottom_that_may_be_zero_has_no_interval_and_raises_nothing() -> None:
    from bench.claims.kit import sample_ratio

    assert not ratio_interval([[1.0, 2.0, 3.0]], [[0.0, 1.0, 2.0]]).known
    effect = sample_ratio("memory", [4.0, 5.0, 6.0], [0.0, 0.0, 0.0], 2.0, method="3 and 3")
    assert math.isnan(effect.value) and "the denominator's median is 0" in effect.method
