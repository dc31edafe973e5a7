"""The registries are the only place a runner or a workload is named (in the style of
trio's export tests): everything registered runs from the command line, has a colour
and a place, and shows in `--help`; an unknown name is a one-line error; and a new
runner or workload is one class plus one registration."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, ClassVar

import pytest

from bench.options import knob_flag, option_table
from bench.outcome import Outcome, run_task
from bench.runners import RUNNERS, Runner, register_runner
from tests.conftest import REPO
from workloads import WORKLOADS, Workload, WrongResult, knob, register_workload
from workloads.server import ServerProcess

SMALL = {"sleep": ["--sleep-ms", "2"], "http": ["--http-delay-ms", "2", "--http-size", "64"],
         "cpu": ["--cpu-n", "20000"], "hash": ["--hash-size", "65536"],
         "mixed": ["--mixed-wait-ms", "2", "--mixed-n", "20000"]}


# --- a trivial runner and a trivial workload: one class and one registration each ------

class InlineRunner(Runner):
    """Runs every task in the calling thread, whatever the concurrency."""

    name: ClassVar[str] = "inline"
    colour: ClassVar[str] = "#17becf"

    def run(self, tasks: int) -> Outcome:
        return Outcome.from_results(run_task(self.workload.for_task(i)) for i in range(tasks))


@dataclass(frozen=True)
class EchoWorkload(Workload):
    """Each task returns its word."""

    name: ClassVar[str] = "echo"
    word: str = knob("hi", "what each task returns")

    def call(self) -> str:
        return self.word

    async def acall(self, client: Any) -> str:
        return self.word

    def check(self, result: object) -> None:
        if result != self.word:
            raise WrongResult(f"echoed {result!r}")

    def task_seconds(self) -> float:
        return 0.0


PLUGIN = '''
from bench.runners import register_runner
from tests.test_registry import EchoWorkload, InlineRunner
from workloads import register_workload

register_runner(InlineRunner)
register_workload(EchoWorkload)
'''


@pytest.fixture
def registered() -> Iterator[None]:
    """InlineRunner and EchoWorkload registered in this process, and unregistered after."""
    register_runner(InlineRunner)
    register_workload(EchoWorkload)
    try:
        yield
    finally:
        RUNNERS.pop(InlineRunner.name)
        WORKLOADS.pop(EchoWorkload.name)


def test_a_new_runner_and_workload_join_options_and_help(registered: None) -> None:
    flags = {option.flag: option.help for option in option_table()}
    assert "inline" in flags["--runner"] and "echo" in flags["--workload"]
    assert flags["--echo-word"] == "echo workload: what each task returns (default: hi)"


def test_a_new_runner_and_workload_run_from_the_command_line(
        pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PYTHONPATH", str(REPO))  # the plugin imports this test module
    pytester.makepyfile(trivial_plugin=PLUGIN)
    out = pytester.path / "run.json"
    result = pytester.run(sys.executable, "-m", "pytest", "-p", "trivial_plugin", "--pyargs",
                          "bench", "--benchmark-only", "--workload", "echo,sleep", "--runner",
                          "inline,asyncio", "--echo-word", "yo", "--sleep-ms", "1", "--tasks",
                          "3", "--concurrency", "2", "--rounds", "2", f"--benchmark-json={out}",
                          "-p", "no:cacheprovider", timeout=300)
    assert result.ret == 0, result.stdout.str() + result.stderr.str()
    records = [bench["extra_info"] for bench in json.loads(out.read_text())["benchmarks"]]
    assert sorted((r["workload"], r["runner"]) for r in records) == [
        ("echo", "asyncio"), ("echo", "inline"), ("sleep", "asyncio"), ("sleep", "inline")]
    for record in records:
        assert record["ok"] == record["tasks_run"] == 3 * 2 and record["failed"] == 0
    assert {r["params"]["word"] for r in records if r["workload"] == "echo"} == {"yo"}


def test_every_runner_declares_a_colour_and_a_place() -> None:
    for name, cls in RUNNERS.items():
        assert cls.name == name
        assert re.fullmatch(r"#[0-9a-f]{6}", cls.colour), name
    colours = [cls.colour for cls in RUNNERS.values()]
    assert len(set(colours)) == len(colours)
    orders = [cls.order for cls in RUNNERS.values()]
    assert orders == sorted(orders) and len(set(orders)) == len(orders)


def test_every_workload_declares_its_task_count_and_knobs() -> None:
    for name, cls in WORKLOADS.items():
        assert cls.name == name and cls.default_tasks >= 1
        for field in cls.knobs():
            assert field.knob.help, f"{name}.{field.name} has no help"
            assert field.type in (int, float, str, bool), f"{name}.{field.name}"


@pytest.fixture(scope="module")
def help_text() -> str:
    result = subprocess.run([sys.executable, "-m", "pytest", "--help"], cwd=REPO,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0
    return " ".join(result.stdout.split())  # argparse wraps lines


def test_help_lists_every_name_knob_and_default(help_text: str) -> None:
    assert f"from: {', '.join(RUNNERS)}" in help_text
    assert f"from: {', '.join(WORKLOADS)}" in help_text
    assert "(default: sequential,asyncio,threads,processes)" in help_text
    assert "default: all" not in help_text
    for cls in WORKLOADS.values():
        for field in cls.knobs():
            assert knob_flag(cls, field) in help_text
    assert "--sleep-ms" in help_text and "(default: 20)" in help_text
    assert "--http-timeout-s" in help_text and "(default: 10)" in help_text


def test_every_workload_runs_under_every_runner_from_the_command_line(
        server: ServerProcess) -> None:
    """One run of the whole matrix, every workload under every runner: one pytest, one
    test server and one PostgreSQL for all of it, as a user's `--workload` list gets."""
    knobs = [flag for workload in WORKLOADS for flag in SMALL.get(workload, [])]
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "bench", "--benchmark-disable", "-q", "-rfEs",
         "--workload", ",".join(WORKLOADS), "--runner", ",".join(RUNNERS), "--tasks", "2",
         "--concurrency", "2", "--get-url", server.url, *knobs],
        cwd=REPO, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    available = [cls for cls in RUNNERS.values() if cls.unavailable() is None]
    assert f"{len(available) * len(WORKLOADS)} passed" in result.stdout, result.stdout[-3000:]
    if len(available) < len(RUNNERS):  # the others are skipped, saying why
        skipped = (len(RUNNERS) - len(available)) * len(WORKLOADS)
        assert f"{skipped} skipped" in result.stdout
        for cls in RUNNERS.values():
            if cls.unavailable() is not None:
                assert str(cls.unavailable()) in result.stdout


@pytest.mark.parametrize("option, known", [("--runner", RUNNERS), ("--workload", WORKLOADS)])
def test_unknown_name_is_one_line_listing_the_known_ones(option: str,
                                                         known: dict[str, Any]) -> None:
    result = subprocess.run([sys.executable, "-m", "pytest", "--benchmark-only", option,
                             "nosuch"], cwd=REPO, capture_output=True, text=True, timeout=120)
    assert result.returncode != 0
    lines = (result.stdout + result.stderr).strip().splitlines()
    assert lines == [f"ERROR: {option}: unknown value 'nosuch'; choose from "
                     f"{', '.join(known)}"]
