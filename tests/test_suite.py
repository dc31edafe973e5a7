"""The benchmark suite runs end to end, and what it records is complete and consistent."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import run_suite

EXTRA_INFO_KEYS = {"workload", "runner", "tasks", "concurrency", "ok", "failed", "ideal_s",
                   "latency_p50_s", "latency_p95_s", "latency_p99_s", "cpu_s", "peak_rss_mb",
                   "start_method", "timed_setup", "python", "gil_enabled", "pss_mb",
                   "server_cpu_s", "setup_s", "teardown_s", "failure_kinds"}


def test_suite_smoke_runs_every_scenario_once() -> None:
    result = run_suite("--benchmark-disable", "-q")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "12 passed" in result.stdout  # 3 workloads x (sequential + 3 runners at C=3)


@pytest.fixture(scope="module")
def suite_json(suite_run: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(suite_run.read_text())
    return data


def test_every_benchmark_records_the_required_extra_info(suite_json: dict[str, Any]) -> None:
    benchmarks = suite_json["benchmarks"]
    assert len(benchmarks) == 12
    for bench in benchmarks:
        info = bench["extra_info"]
        assert info.keys() >= EXTRA_INFO_KEYS, bench["name"]
        assert bench["group"] == info["workload"]
        assert bench["stats"]["rounds"] == info["rounds"] == 4
        assert info["ok"] + info["failed"] == info["tasks_run"] == info["tasks"] * 4
        assert info["failed"] == 0
        assert info["timed_setup"] is False
        assert info["latency_p50_s"] <= info["latency_p95_s"] <= info["latency_p99_s"]
        assert info["cpu_s"] > 0 and info["peak_rss_mb"] > 0
        assert (info["start_method"] is not None) == (info["runner"] == "processes")
        assert (info["server_cpu_s"] is not None) == (info["workload"] == "http")


def test_sequential_is_the_concurrency_one_baseline(suite_json: dict[str, Any]) -> None:
    sequential = [b["extra_info"] for b in suite_json["benchmarks"]
                  if b["extra_info"]["runner"] == "sequential"]
    assert sorted(i["workload"] for i in sequential) == ["cpu", "http", "sleep"]
    assert all(i["concurrency"] == 1 for i in sequential)


def test_ideal_time_follows_the_workload_formula(suite_json: dict[str, Any]) -> None:
    for bench in suite_json["benchmarks"]:
        info = bench["extra_info"]
        if info["workload"] == "sleep":
            waits = 6 if info["runner"] == "sequential" else 2  # ceil(6 / 3)
            assert info["ideal_s"] == pytest.approx(waits * 0.005)
            # Nothing beats its own ideal: a wait is a wait.
            assert bench["stats"]["min"] >= info["ideal_s"]


def test_machine_info_records_build_versions_and_fairness(suite_json: dict[str, Any]) -> None:
    machine = suite_json["machine_info"]
    assert machine["python_build"]["gil_enabled"] in (True, False)
    assert machine["library_versions"]["aiohttp"] != "not installed"
    assert machine["fairness"]["rounds"] == 4
    assert machine["usable_cores"] >= 1


def test_async_benchmark_is_refused(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        import asyncio

        async def test_async(benchmark):
            benchmark(lambda: None)
        """
    )
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*benchmarks must be sync functions*"])


def test_workload_filter_selects_one_scenario(tmp_path: Path) -> None:
    result = run_suite("--benchmark-disable", "--workload", "cpu", "--runner", "asyncio", "-q")
    assert result.returncode == 0, result.stdout
    assert "1 passed in" in result.stdout


def test_the_banner_says_what_decides_the_rounds() -> None:
    """pytest-benchmark's calibration defaults (min_rounds, max_time) are not ours: the
    header says what the suite does instead."""
    result = run_suite("--collect-only", "--rounds", "3")
    assert result.returncode == 0, result.stdout + result.stderr
    header = result.stdout.split("collected")[0]
    assert "min_rounds" not in header and "max_time" not in header
    assert "concurrency-bench: exactly 3 counted rounds, after 1 warm-up round(s)" in header
