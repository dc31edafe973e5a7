"""Every option is checked, and a bad value is one line of error and a non-zero exit."""

from __future__ import annotations

import subprocess
import sys

import pytest

from bench.options import DEFAULT_CONCURRENCY, OptionError, parse_settings
from bench.runners import RUNNERS
from tests.conftest import REPO
from workloads import WORKLOADS, HttpWorkload, SleepWorkload


def test_defaults_are_the_default_matrix() -> None:
    settings = parse_settings({})
    assert settings.workloads == ("sleep", "http", "cpu")
    assert settings.runners == ("sequential", "asyncio", "threads", "processes")
    assert settings.concurrency == DEFAULT_CONCURRENCY
    assert settings.tasks_for("http") == (HttpWorkload.default_tasks,)
    assert set(settings.runner_options.values()) == {None} and settings.target_url is None


def test_knob_defaults_come_from_the_workload_fields() -> None:
    settings = parse_settings({})
    assert settings.knobs["http"]["timeout_s"] == HttpWorkload().timeout_s
    assert settings.make_workload("sleep") == SleepWorkload()
    assert settings.make_workload("http", "http://127.0.0.1:1/") == HttpWorkload(
        base_url="http://127.0.0.1:1/")


def test_knobs_are_typed_and_scaled() -> None:
    settings = parse_settings({"sleep_ms": "5", "http_fault": "reset", "seed": "7",
                               "mixed_wait_ms": "3", "hash_size": "1024"})
    assert settings.make_workload("sleep").seconds == pytest.approx(0.005)
    assert settings.knobs["http"]["fault"] == "reset" and settings.knobs["http"]["seed"] == 7
    assert settings.make_workload("mixed").wait_s == pytest.approx(0.003)
    assert settings.make_workload("hash").size == 1024


def test_lists_are_parsed_and_deduplicated() -> None:
    settings = parse_settings({"workload": "http, cpu,http", "runner": "asyncio,threads",
                               "tasks": "500", "concurrency": "50,5,50"})
    assert settings.workloads == ("http", "cpu")
    assert settings.runners == ("asyncio", "threads")
    assert settings.tasks_for("cpu") == (500,)
    assert settings.concurrency == (50, 5)


def test_target_url_gets_a_path() -> None:
    assert parse_settings({"target_url": "http://10.0.0.1:81"}).target_url == "http://10.0.0.1:81/"


BAD_VALUES = [
    ({"workload": "disk"}, f"--workload: unknown value 'disk'; choose from {', '.join(WORKLOADS)}"),
    ({"runner": "gevent"}, f"--runner: unknown value 'gevent'; choose from {', '.join(RUNNERS)}"),
    ({"runner": ""}, "--runner: unknown value ''"),
    ({"tasks": "0"}, "--tasks: must be between 1 and 1000000, got 0"),
    ({"tasks": "10,x"}, "--tasks: expected an integer, got 'x'"),
    ({"concurrency": "abc"}, "--concurrency: expected an integer, got 'abc'"),
    ({"concurrency": "-3"}, "--concurrency: must be between 1 and 100000, got -3"),
    ({"sleep_ms": "fast"}, "--sleep-ms: expected a number, got 'fast'"),
    ({"sleep_ms": "-1"}, "--sleep-ms: must be between"),
    ({"http_delay_ms": "1.5"}, "--http-delay-ms: expected an integer, got '1.5'"),
    ({"http_size": "-1"}, "--http-size: must be between 0 and"),
    ({"http_timeout_s": "0"}, "--http-timeout-s: must be between"),
    ({"cpu_n": "0"}, "--cpu-n: must be between 1 and"),
    ({"rounds": "0"}, "--rounds: must be between 1 and 1000, got 0"),
    ({"warmup_rounds": "-1"}, "--warmup-rounds: must be between 0 and 100, got -1"),
    ({"start_method": "thread"}, "--start-method: unknown value 'thread'"),
    ({"target_url": "localhost:8080"}, "--target-url: expected an http:// or https:// URL"),
    ({"http_fail_rate": "2"}, "--http-fail-rate: must be between 0.0 and 1.0, got 2"),
    ({"hash_size": "0"}, "--hash-size: must be between 1 and"),
    ({"mixed_n": "x"}, "--mixed-n: expected an integer, got 'x'"),
    ({"http_fail_rate": "some"}, "--http-fail-rate: expected a number, got 'some'"),
    ({"http_fault": "boom"}, "--http-fault: unknown value 'boom'; choose from status, reset, "
                             "slow"),
    ({"http_fail_status": "200"}, "--http-fail-status: must be between 400 and 599, got 200"),
    ({"seed": "-1"}, "--seed: must be between 0 and"),
]


@pytest.mark.parametrize("raw, message", BAD_VALUES, ids=[next(iter(r)) for r, _ in BAD_VALUES])
def test_bad_value_names_option_and_value(raw: dict[str, str], message: str) -> None:
    with pytest.raises(OptionError) as error:
        parse_settings(raw)
    assert str(error.value).startswith(message)
    assert "\n" not in str(error.value)


@pytest.mark.parametrize("args, message", [
    (["--runner", "foo"], "ERROR: --runner: unknown value 'foo'"),
    (["--tasks", "0"], "ERROR: --tasks: must be between 1 and 1000000, got 0"),
    (["--concurrency", "abc"], "ERROR: --concurrency: expected an integer, got 'abc'"),
    (["--workload", "http", "--target-url", "http://127.0.0.1:9/"],
     "ERROR: --target-url: http://127.0.0.1:9/ is unreachable (ConnectionError)"),
])
def test_command_line_error_is_one_line_and_non_zero(args: list[str], message: str) -> None:
    result = subprocess.run([sys.executable, "-m", "pytest", "--benchmark-only", *args],
                            cwd=REPO, capture_output=True, text=True, timeout=120)
    assert result.returncode != 0
    output = (result.stdout + result.stderr).strip()
    lines = output.splitlines()
    assert len(lines) == 1 and lines[0].startswith(message)
