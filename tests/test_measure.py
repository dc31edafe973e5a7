"""The three steps of a measurement: calibrate, run the rounds, make the record."""

from __future__ import annotations

import math
import textwrap

import pytest

from bench.measure import LostTasks, Rounds, calibrate, make_record, percentiles
from bench.outcome import Outcome, TaskResult
from bench.resources import ResourceUsage
from bench.runners import make_runner
from bench.scenario import ScenarioSpec
from workloads import CpuWorkload, MixedWorkload, SleepWorkload
from workloads.base import best_seconds, observe_seconds

USAGE = ResourceUsage(cpu_s=0.5, peak_rss_mb=10.0, pss_mb=8.0, server_cpu_s=None)


def _rounds(results: list[TaskResult], rounds: int = 1) -> Rounds:
    return Rounds(Outcome.from_results(results * rounds), rounds, 1, USAGE, [0.01], [0.02])


def test_calibration_is_taken_once_per_job_and_only_ever_lowered() -> None:
    job = CpuWorkload(n=20_001)
    first = calibrate(job)
    assert first > 0 and calibrate(job) == first  # cached by value
    observe_seconds(job, first * 10)  # a slow task never raises the ideal
    assert best_seconds(job) == first
    job.observe(first / 2)  # a faster one lowers it
    assert best_seconds(job) == first / 2


def test_the_fastest_task_of_the_run_lowers_the_cpu_ideal() -> None:
    job = CpuWorkload(n=20_002)
    calibrated = calibrate(job)
    spec = ScenarioSpec("cpu", "sequential", 4, 1, rounds=2, warmup_rounds=1)
    fastest = calibrated * 0.5  # as if calibration ran at a busy moment
    results = [TaskResult(fastest), *[TaskResult(calibrated * 2)] * 3]
    record = make_record(spec, job, make_runner("sequential", job, 1), _rounds(results, 2))
    assert record.task_s == fastest
    assert record.ideal_s == pytest.approx(4 * fastest)
    assert "fastest single task" in record.ideal_basis


def test_mixed_learns_its_compute_part_from_the_run() -> None:
    job = MixedWorkload(wait_s=0.01, n=20_003)
    calibrate(job)
    job.observe(0.01 + 1e-6)  # a task that was all wait and almost no sum
    assert job.cpu_seconds() == pytest.approx(1e-6)


def test_io_ideal_is_the_wait_and_ignores_task_times() -> None:
    job = SleepWorkload(seconds=0.01)
    spec = ScenarioSpec("sleep", "asyncio", 8, 4, rounds=1, warmup_rounds=0)
    record = make_record(spec, job, make_runner("asyncio", job, 4),
                         _rounds([TaskResult(0.0105)] * 8))
    assert record.ideal_s == pytest.approx(2 * 0.01)
    assert (record.ok, record.failed, record.tasks_run) == (8, 0, 8)


def test_a_lost_task_is_never_recorded() -> None:
    job = SleepWorkload(seconds=0.001)
    spec = ScenarioSpec("sleep", "sequential", 4, 1, rounds=2, warmup_rounds=0)
    with pytest.raises(LostTasks, match="8 tasks run but 7 accounted for"):
        lost_one = Rounds(Outcome.from_results([TaskResult(0.001)] * 7), 2, 0, USAGE, [0.0],
                          [0.0])
        make_record(spec, job, make_runner("sequential", job, 1), lost_one)


def test_failures_are_recorded_by_kind() -> None:
    job = SleepWorkload(seconds=0.001)
    spec = ScenarioSpec("sleep", "sequential", 3, 1, rounds=1, warmup_rounds=0)
    results = [TaskResult(0.001), TaskResult(0.002, "status"), TaskResult(0.002, "status")]
    record = make_record(spec, job, make_runner("sequential", job, 1), _rounds(results))
    assert record.failure_kinds == {"status": 2} and record.failed == 2 and record.ok == 1
    assert record.faults_injected is False


def test_percentiles_of_nothing_are_none_and_of_one_value_are_that_value() -> None:
    assert set(percentiles([]).values()) == {None}
    assert set(percentiles([0.5]).values()) == {0.5}
    cuts = percentiles([float(i) for i in range(101)])
    assert cuts["latency_p50_s"] == 50 and math.isclose(cuts["latency_p99_s"], 99)


RUN_ROUNDS_TEST = """
    import pytest

    from bench.measure import run_rounds
    from bench.runners import make_runner
    from bench.scenario import ScenarioSpec
    from workloads import SleepWorkload

    @pytest.mark.parametrize("cold", [False, True])
    def test_counted_rounds_only(benchmark, cold):
        job = SleepWorkload(seconds=0.002)
        spec = ScenarioSpec("sleep", "threads", 5, 2, rounds=3, warmup_rounds=2,
                            timed_setup=cold)
        done = run_rounds(benchmark, spec, make_runner("threads", job, 2))
        assert (done.rounds, done.warmup_rounds) == (3, 2)
        assert done.outcome.tasks == done.outcome.ok == 15  # warm-ups are not counted
        assert len(done.setups) == len(done.teardowns) == (3 if cold else 1)
        assert benchmark.stats.stats.rounds == 3
"""


def test_run_rounds_keeps_counted_rounds_only(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(textwrap.dedent(RUN_ROUNDS_TEST))
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "--benchmark-only")
    result.assert_outcomes(passed=2)


SLOW_START_TEST = """
    import time

    from bench.measure import EXTRA_WARMUPS, run_rounds
    from bench.outcome import Outcome
    from bench.runners import SequentialRunner
    from bench.scenario import ScenarioSpec
    from workloads import SleepWorkload

    class SlowStart(SequentialRunner):
        # Its first two rounds after it is built take 0.1 s, later ones nothing.
        def open(self):
            super().open()
            self.rounds = 0

        def run(self, tasks):
            self.rounds += 1
            if self.rounds <= 2:
                time.sleep(0.1)
            return super().run(tasks)

    def test_warms_until_near_the_earlier_passes_median(benchmark):
        spec = ScenarioSpec("sleep", "sequential", 2, 1, rounds=3, warmup_rounds=1,
                            pass_index=2)
        done = run_rounds(benchmark, spec, SlowStart(SleepWorkload(seconds=0.001)),
                          steady_s=0.02)  # 26 ms: far above a warm round, under a cold one
        # Two slow warm-ups, then one that shows the runner is warm: none of them counted.
        assert done.warmup_rounds == 3 and done.rounds == 3
        assert max(benchmark.stats.stats.data) < 0.05  # no cold round was counted
        # Every pass probes one task alone, after its warm-up (not the slow first rounds);
        # the no-op round trip is the first pass's only.
        assert done.solo_task_s is not None and done.solo_task_s < 0.05
        assert done.overhead_s is None

    def test_without_a_steady_round_only_the_asked_warm_ups_run(benchmark):
        spec = ScenarioSpec("sleep", "sequential", 2, 1, rounds=3, warmup_rounds=1)
        done = run_rounds(benchmark, spec, SlowStart(SleepWorkload(seconds=0.001)))
        assert done.warmup_rounds == 1 and EXTRA_WARMUPS >= 1
"""


def test_a_pass_warms_its_runner_until_it_is_near_its_steady_round(
        pytester: pytest.Pytester) -> None:
    pytester.makepyfile(textwrap.dedent(SLOW_START_TEST))
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "--benchmark-only")
    result.assert_outcomes(passed=2)


HEAP_TEST = """
    import gc
    import weakref

    from bench.measure import run_rounds
    from bench.runners import SequentialRunner
    from bench.scenario import ScenarioSpec
    from workloads import SleepWorkload

    class Node:
        pass

    class Watching(SequentialRunner):
        # At the start of each round: was the last round's cyclic garbage collected, and
        # how much of the heap is frozen?  Then it leaves a new cycle behind.
        def open(self):
            super().open()
            self.seen, self.last = [], None

        def run(self, tasks):
            if tasks == 1:  # the one-task probe between warm-up and counting: not a round
                return super().run(tasks)
            self.seen.append((self.last is not None and self.last() is not None,
                              gc.get_freeze_count(), gc.get_count()[0]))
            node = Node()
            node.me = node
            self.last = weakref.ref(node)
            return super().run(tasks)

    def test_every_round_starts_collected_and_frozen(benchmark, monkeypatch):
        unfreezes = []
        unfreeze = gc.unfreeze
        monkeypatch.setattr(gc, "unfreeze", lambda: unfreezes.append(1) or unfreeze())
        spec = ScenarioSpec("sleep", "sequential", 2, 1, rounds=4, warmup_rounds=1)
        runner = Watching(SleepWorkload(seconds=0.001))
        run_rounds(benchmark, spec, runner)
        # The whole heap is put back in view (and walked) at the pass's first round and
        # given back at its end: twice a pass, not once a round.
        assert len(unfreezes) == 2
        assert len(runner.seen) == 5
        for alive, frozen, young in runner.seen:
            assert not alive  # the round before left a cycle: collected before this one
            # The heap set aside; young objects only those made since (below gen 0's 700)
            assert frozen > 1000 and young < 700
        frozen = [count for _, count, _ in runner.seen]
        # Later rounds only add to what is frozen: the whole heap is not walked again.
        assert frozen == sorted(frozen)
        assert gc.get_freeze_count() == 0  # the pass gives the heap back
"""


def test_each_round_starts_from_a_collected_frozen_heap(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(textwrap.dedent(HEAP_TEST))
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "--benchmark-only")
    result.assert_outcomes(passed=1)
