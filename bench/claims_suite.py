"""The claims suite: scenarios that put popular advice about asyncio to the test.

Run with `make claims`, or directly:
`pytest bench/claims_suite.py --benchmark-only --benchmark-json claims.json`.
It measures like the default matrix: every scenario warms its runner before each pass,
and rounds come in alternating passes within each claim until the median is known to the
precision target or a cap (`--precision`, `--max-rounds`, `--max-seconds`), so a slow
minute lands on every runner a claim compares.  `--quick` shrinks every size and runs one
pass of 2 rounds, a wiring check that takes seconds; its numbers are not evidence of
anything.  Each scenario carries the claim it is evidence for; the claim modules in
`bench.claims` say which, and turn the measurements into verdicts.

The timed scenarios run through the same test as the default suite (`test_scenario`);
claims 2 and 3 are experiments with tests of their own below (one pass each), and claim
9's one-off scripts run as fresh interpreters, timed whole.
"""

from __future__ import annotations

import dataclasses
import math
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from bench.claims import CLAIMS, c2_failure_isolation, c3_inflight_cost, c9_cold, claim_named
from bench.experiments import ISOLATION_MODES, FailureIsolation, measure_inflight
from bench.precision import RoundPlan, Tracker
from bench.record import ScenarioRecord
from bench.scenario import ScenarioSpec
from bench.sessions import SETTINGS, LocalServers
from bench.stats import FEWEST_FOR_95, median
from bench.test_benchmarks import test_scenario
from workloads.http import HttpWorkload
from workloads.oneoff import MODELS
from workloads.server import DEFAULT_SERVER

__all__ = ["scenario_specs", "test_scenario"]

ONE_OFF = Path(__file__).resolve().parent.parent / "workloads" / "oneoff.py"
SCRIPT_TIMEOUT_S = 120.0
MEMORY_SAMPLES = FEWEST_FOR_95  # claim 3: fresh interpreters sampled for memory per task


def _sizes(config: pytest.Config, key: str) -> Any:
    """Claim `key`'s sizes: its own, or its quick ones under `--quick`."""
    return claim_named(key).sized(bool(config.getoption("bench_quick")))


def _plan(config: pytest.Config) -> RoundPlan:
    return config.stash[SETTINGS].plan


def in_passes(specs: list[ScenarioSpec], plan: RoundPlan) -> list[ScenarioSpec]:
    """Every pass of `specs`, pass by pass, so the scenarios of one claim alternate."""
    return [dataclasses.replace(spec, rounds=plan.rounds_in(index), pass_index=index)
            for index in range(1, plan.passes + 1) if plan.rounds_in(index) > 0
            for spec in specs]


def scenario_specs(config: pytest.Config) -> list[ScenarioSpec]:
    """Every timed scenario of the claims run, claim by claim, each claim's in alternating
    passes (the plugin asks for these)."""
    quick, plan = bool(config.getoption("bench_quick")), _plan(config)
    return [spec for claim in CLAIMS
            for spec in in_passes(claim.scenarios(claim.sized(quick)), plan)]


@dataclasses.dataclass(frozen=True)
class ScriptCase:
    """Claim 9: one-off scripts of `calls` requests with a server delay, under a model."""

    model: str
    calls: int
    delay_ms: int
    rounds: int
    pass_index: int = 1

    @property
    def key(self) -> str:
        return f"c9_cold/script/{self.model}-c{self.calls}-delay_ms={self.delay_ms}"

    @property
    def label(self) -> str:
        suffix = f"-pass{self.pass_index}" if self.pass_index > 1 else ""
        return f"{self.model}-n{self.calls}-delay_ms={self.delay_ms}{suffix}"


def script_cases(sizes: c9_cold.Sizes, plan: RoundPlan) -> list[ScriptCase]:
    """Each delay's scripts in alternating passes."""
    cases = []
    for delay in sizes.script_delays_ms:
        for index in range(1, plan.passes + 1):
            rounds = plan.rounds_in(index)
            if rounds > 0:
                cases += [ScriptCase(model, calls, delay, rounds, index)
                          for calls in sizes.script_calls for model in MODELS]
    return cases


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    config = metafunc.config
    if "isolation_mode" in metafunc.fixturenames:
        metafunc.parametrize("isolation_mode", ISOLATION_MODES)
    elif "inflight" in metafunc.fixturenames:
        plan = _plan(metafunc.config)
        probes = [(name, count, index) for index in range(1, plan.passes + 1)
                  if plan.rounds_in(index) > 0
                  for name, count in _sizes(config, c3_inflight_cost.KEY).inflight]
        metafunc.parametrize("inflight", probes, ids=[
            name + (f"-pass{index}" if index > 1 else "") for name, _, index in probes])
    elif "script_case" in metafunc.fixturenames:
        cases = script_cases(_sizes(config, c9_cold.KEY), _plan(config))
        metafunc.parametrize("script_case", cases, ids=[case.label for case in cases])


def test_claim_failure_isolation(benchmark: Any, isolation_mode: str,
                                 bench_servers: LocalServers,
                                 pytestconfig: pytest.Config) -> None:
    sizes = _sizes(pytestconfig, c2_failure_isolation.KEY)
    url = pytestconfig.stash[SETTINGS].target_url or bench_servers.get(DEFAULT_SERVER).url
    experiment = FailureIsolation(isolation_mode, url, sizes.isolation_tasks,
                                  sizes.isolation_delay_ms)
    benchmark.group = "c2_failure_isolation"
    buckets = benchmark.pedantic(experiment.run, rounds=_plan(pytestconfig).rounds_in(1),
                                 warmup_rounds=1)
    assert sum(buckets.values()) == sizes.isolation_tasks  # every task in exactly one bucket
    record = ScenarioRecord(
        workload="http", runner=isolation_mode, tasks=sizes.isolation_tasks,
        concurrency=sizes.isolation_tasks, ok=buckets["delivered_ok"],
        failed=sizes.isolation_tasks - buckets["delivered_ok"],
        ideal_s=sizes.isolation_delay_ms / 1000, claim="c2_failure_isolation",
        faults_injected=True, timed_setup=True, extra={"buckets": dict(buckets)})
    benchmark.extra_info.update(record.as_dict())


def test_claim_inflight_cost(benchmark: Any, inflight: tuple[str, int, int],
                             round_tracker: Tracker, pytestconfig: pytest.Config) -> None:
    """Starting K parked tasks, in alternating passes like the timed scenarios; the memory
    they hold is sampled in fresh interpreters in the first pass."""
    runner, count, index = inflight
    key = f"c3_inflight_cost/parked/{runner}-c{count}"
    if index > 1:
        enough = round_tracker.enough(key)
        if enough:
            pytest.skip(enough)
    benchmark.group = "c3_inflight_cost"
    rounds = _plan(pytestconfig).rounds_in(index)
    samples = measure_inflight(benchmark, runner, count, rounds,
                               memory_samples=MEMORY_SAMPLES if index == 1 else 0)
    if not benchmark.disabled:
        round_tracker.add(key, list(benchmark.stats.stats.data))
    memory = {"memory_per_task_kb": median(samples),
              "memory_samples_kb": samples} if samples else {}
    record = ScenarioRecord(
        workload="parked", runner=runner, tasks=count, concurrency=count, ok=count, failed=0,
        ideal_s=None, claim="c3_inflight_cost", pass_index=index, rounds=rounds,
        timed_setup=True, extra=memory)
    benchmark.extra_info.update(record.as_dict())


def test_claim_one_off_script(benchmark: Any, script_case: ScriptCase,
                              bench_servers: LocalServers, round_tracker: Tracker,
                              pytestconfig: pytest.Config) -> None:
    """A one-off script run as its user runs it: a fresh interpreter per round, timed whole
    (start-up and imports included).  A script that exits non-zero failed all its calls."""
    case = script_case
    if case.pass_index > 1:
        enough = round_tracker.enough(case.key)
        if enough:
            pytest.skip(enough)
    base = pytestconfig.stash[SETTINGS].target_url or bench_servers.get(DEFAULT_SERVER).url
    url = HttpWorkload(base_url=base, delay_ms=case.delay_ms).url
    # -P: the script's folder (workloads/, which has a module named http) stays off
    # sys.path, as a user's script folder would have nothing of the kind; start-up is alike.
    command = [sys.executable, "-P", str(ONE_OFF), case.model, str(case.calls), url]
    ok = failed = 0
    errors: list[str] = []

    def run_script() -> None:
        nonlocal ok, failed
        done = subprocess.run(command, capture_output=True, text=True, timeout=SCRIPT_TIMEOUT_S)
        if done.returncode == 0:
            ok += case.calls
        else:
            failed += case.calls
            errors.append((done.stderr.strip().splitlines() or ["no output"])[-1])

    benchmark.group = "c9_cold"
    run_script()  # the warm-up round (file caches, the server's first connection): uncounted
    ok = failed = 0
    benchmark.pedantic(run_script, rounds=case.rounds, warmup_rounds=0)
    if not benchmark.disabled:
        round_tracker.add(case.key, list(benchmark.stats.stats.data))
    concurrency = 1 if case.model == "sequential" else case.calls
    record = ScenarioRecord(
        workload="script", runner=case.model, tasks=case.calls, concurrency=concurrency,
        ok=ok, failed=failed,
        ideal_s=math.ceil(case.calls / concurrency) * case.delay_ms / 1000, claim="c9_cold",
        scenario=case.key, pass_index=case.pass_index, rounds=case.rounds,
        warmup_rounds=1, params={"delay_ms": case.delay_ms}, timed_setup=True,
        extra={"timed": "a fresh interpreter: start-up, imports, set-up, calls, teardown"})
    benchmark.extra_info.update(record.as_dict())
    if failed or errors:
        benchmark.has_error = True  # not a result: pytest-benchmark leaves it out of the JSON
        pytest.fail(f"one-off script {case.label} failed: {errors[0]}", pytrace=False)
