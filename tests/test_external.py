"""Workloads from outside the project, and any HTTP service: the examples of
docs/own-workload.md run as written from a folder outside the repository, and every bad
input is one line."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from bench.options import OptionError, parse_settings
from bench.watchdog import bounded
from tests.conftest import REPO
from workloads import WrongResult

NO_ASYNC = '''
from dataclasses import dataclass
from typing import ClassVar

from workloads import Workload, WrongResult


@dataclass(frozen=True)
class SyncOnly(Workload):
    name: ClassVar[str] = "sync_only"
    n: int = 1000

    def call(self) -> int:
        return sum(range(self.n))

    def check(self, result: object) -> None:
        if result != self.n * (self.n - 1) // 2:
            raise WrongResult("wrong sum")
'''


EXPLODES = '''
from dataclasses import dataclass
from typing import ClassVar

from workloads import Workload


@dataclass(frozen=True)
class Explodes(Workload):
    name: ClassVar[str] = "explodes"

    def call(self) -> int:
        raise RuntimeError("parser exploded")

    def check(self, result: object) -> None:
        pass
'''


def readme_example(marker: str = "class FetchAndSum(Workload)") -> str:
    """An example workload file, as docs/own-workload.md shows it."""
    text = (REPO / "docs" / "own-workload.md").read_text()
    blocks = re.findall(r"```python\n(.*?)```", text, flags=re.DOTALL)
    found = [block for block in blocks if marker in block]
    assert found, f"docs/own-workload.md lost its example workload ({marker})"
    return found[0]


def suite(folder: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """The suite as a user runs it from their own project's folder."""
    return subprocess.run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "--pyargs",
                           "bench", "--benchmark-only", *args], cwd=folder,
                          capture_output=True, text=True, timeout=300)


def test_the_readme_example_runs_from_outside_the_project(tmp_path: Path) -> None:
    (tmp_path / "myjobs.py").write_text(readme_example())
    result = suite(tmp_path, "--workload", "myjobs.py:FetchAndSum", "--param", "wait_s=0.002",
                   "--param", "n=30000", "--runner", "sequential,asyncio,threads,processes",
                   "--tasks", "8", "--concurrency", "4", "--rounds", "2",
                   "--benchmark-json=out.json")
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    records = [b["extra_info"] for b in json.loads((tmp_path / "out.json").read_text())[
        "benchmarks"]]
    assert sorted(r["runner"] for r in records) == ["asyncio", "processes", "sequential",
                                                    "threads"]
    for record in records:
        assert record["ok"] == record["tasks_run"] == 8 * 2 and record["failed"] == 0
        assert record["params"] == {"wait_s": 0.002, "n": 30000}
        assert record["ideal_s"] is None  # no known task time: no ideal, never made up
    # The installed entry point, as the README gives it.
    entry = Path(sys.executable).parent / "concurrency-bench-report"
    report = subprocess.run([str(entry), "out.json", "--out", "report"], cwd=tmp_path,
                            capture_output=True, text=True, timeout=300)
    assert report.returncode == 0, report.stderr
    table = (tmp_path / "report" / "table.md").read_text()
    assert "fetch_and_sum" in table and "nan" not in table


def test_no_async_twin_means_not_applicable_with_the_reason(tmp_path: Path) -> None:
    (tmp_path / "jobs.py").write_text(NO_ASYNC)
    result = suite(tmp_path, "--workload", "jobs.py:SyncOnly", "--runner",
                   "sequential,asyncio,threads", "--tasks", "4", "--concurrency", "2",
                   "--rounds", "1", "--benchmark-json=out.json", "-rs")
    assert result.returncode == 0, result.stdout[-3000:]
    assert "sync_only has no async twin (acall), which asyncio runs" in result.stdout
    data = json.loads((tmp_path / "out.json").read_text())
    assert sorted(b["extra_info"]["runner"] for b in data["benchmarks"]) == [
        "sequential", "threads"]
    subprocess.run([sys.executable, "-m", "scripts.report", "out.json", "--out", "report"],
                   cwd=tmp_path, check=True, capture_output=True, timeout=300)
    assert "Not applicable, so no row: asyncio on sync_only" in (
        tmp_path / "report" / "REPORT.md").read_text()


def test_get_measures_a_server_that_is_not_ours(tmp_path: Path) -> None:
    (tmp_path / "page.txt").write_text("hello\n")
    plain = subprocess.Popen([sys.executable, "-m", "http.server", "0", "--bind", "127.0.0.1"],
                             cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                             text=True)
    try:
        assert plain.stdout is not None
        port = int(plain.stdout.readline().split(" port ")[1].split()[0])
        result = suite(tmp_path, "--workload", "get", "--get-url",
                       f"http://127.0.0.1:{port}/page.txt", "--runner", "asyncio,threads",
                       "--tasks", "20", "--concurrency", "4", "--rounds", "2",
                       "--benchmark-json=get.json")
    finally:
        plain.kill()
        plain.wait()
        assert plain.stdout is not None
        plain.stdout.close()
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    records = [b["extra_info"] for b in json.loads((tmp_path / "get.json").read_text())[
        "benchmarks"]]
    assert sorted(r["runner"] for r in records) == ["asyncio", "threads"]
    assert all(r["ok"] == r["tasks_run"] == 40 for r in records)


BAD = [
    (["--workload", "nosuch.mod:X"], "ERROR: --workload nosuch.mod:X: cannot import nosuch.mod "
                                     "(ModuleNotFoundError: No module named 'nosuch')"),
    (["--workload", "jobs.py:Nope"], "ERROR: --workload jobs.py:Nope: jobs has no Workload "
                                     "dataclass named Nope"),
    (["--workload", "missing.py:X"], "ERROR: --workload missing.py:X: no such file missing.py"),
    (["--workload", "jobs.py:SyncOnly", "--param", "bogus=1"],
     "ERROR: --param: no selected workload has a knob 'bogus'; knobs: sync_only: n (int)"),
    (["--workload", "jobs.py:SyncOnly", "--param", "n=abc"],
     "ERROR: --param n: expected an integer, got 'abc'"),
    (["--workload", "get"], "ERROR: --workload get needs --get-url URL"),
    (["--workload", "get", "--get-url", "http://example.com/"],
     "ERROR: --get-url: example.com is not on this machine; a benchmark is a load test, so "
     "give --allow-remote to send it there"),
]


@pytest.mark.parametrize("args, line", BAD, ids=[" ".join(args) for args, _ in BAD])
def test_bad_input_is_one_line(tmp_path: Path, args: list[str], line: str) -> None:
    (tmp_path / "jobs.py").write_text(NO_ASYNC)
    result = suite(tmp_path, *args)
    assert result.returncode == 4
    assert (result.stdout + result.stderr).strip().splitlines() == [line]


def test_allow_remote_lets_a_remote_url_through_parsing() -> None:
    # Parsing only: no request is sent anywhere.
    with pytest.raises(OptionError, match="is not on this machine"):
        parse_settings({"workload": "get", "get_url": "http://192.0.2.1/"})
    settings = parse_settings({"workload": "get", "get_url": "http://192.0.2.1/",
                               "allow_remote": True})
    assert settings.knobs["get"]["url"] == "http://192.0.2.1/" and settings.allow_remote
    assert parse_settings({"workload": "get", "get_url": "http://localhost:9/"}).workloads == (
        "get",)


def test_a_module_path_names_a_workload_in_the_users_package(tmp_path: Path) -> None:
    package = tmp_path / "mypkg"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "jobs.py").write_text(readme_example())
    result = suite(tmp_path, "--workload", "mypkg.jobs:FetchAndSum,sleep", "--param",
                   "wait_s=0.001", "--runner", "sequential,threads", "--tasks", "4",
                   "--concurrency", "2", "--sleep-ms", "1", "--rounds", "1",
                   "--benchmark-json=out.json")
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    workloads = {b["extra_info"]["workload"] for b in json.loads(
        (tmp_path / "out.json").read_text())["benchmarks"]}
    assert workloads == {"fetch_and_sum", "sleep"}  # external and built-in, mixed


def test_a_workload_that_raises_says_what_it_raised(tmp_path: Path) -> None:
    (tmp_path / "jobs.py").write_text(EXPLODES)
    result = suite(tmp_path, "--workload", "jobs.py:Explodes", "--runner",
                   "sequential,threads,processes", "--tasks", "4", "--concurrency", "2",
                   "--rounds", "1")
    assert result.returncode == 1
    for runner in ("sequential-c1", "threads-c2", "processes-c2"):
        assert (f"explodes {runner}-n4: 4 of 4 tasks failed (other=4: RuntimeError: parser "
                "exploded) with no fault injected") in result.stdout, result.stdout[-3000:]
    assert "Traceback" not in result.stdout
    # A failed scenario's timings are not a result: not in pytest-benchmark's table either.
    assert "benchmark 'explodes'" not in result.stdout


def test_docs_own_http_workloads_check_does_not_do_the_work_again(tmp_path: Path) -> None:
    """Deployments run `check` inside the handler: a check that repeated the summation
    would double the CPU each request is measured with.  With n = 10**12 a repeated sum
    would run for days; the check must answer at once (well inside 5 s)."""
    namespace: dict[str, Any] = {}
    exec(compile(readme_example("class FetchPage("), "myservice.py", "exec"), namespace)
    page = namespace["FetchPage"](base_url="http://127.0.0.1:1/", size=8, n=10**12)
    expected = page.size + sum_of_squares_below(page.n)
    with bounded(5.0, "FetchPage.check"):
        page.check(expected)
        with pytest.raises(WrongResult):
            page.check(expected + 1)


def sum_of_squares_below(n: int) -> int:
    return (n - 1) * n * (2 * n - 1) // 6


def test_docs_own_http_workload_runs_as_written_in_batch_and_service_mode(
        tmp_path: Path) -> None:
    """The page's service-calling workload, unchanged, from a folder outside the repo: the
    suite starts its own test server and hands it over (no port typed anywhere), every
    task is checked, the declared CPU reaches the record, and the report carries the
    suite's own commit although pytest ran outside its checkout."""
    (tmp_path / "myservice.py").write_text(readme_example("class FetchPage("))
    batch = suite(tmp_path, "--workload", "myservice.py:FetchPage", "--param", "delay_ms=5",
                  "--param", "n=2000", "--runner", "sequential,asyncio,threads,processes",
                  "--tasks", "16", "--concurrency", "4", "--rounds", "2",
                  "--benchmark-json=batch.json")
    assert batch.returncode == 0, batch.stdout[-3000:] + batch.stderr[-3000:]
    data = json.loads((tmp_path / "batch.json").read_text())
    records = [b["extra_info"] for b in data["benchmarks"]]
    assert {r["runner"] for r in records} == {"sequential", "asyncio", "threads", "processes"}
    assert all(r["ok"] == r["tasks_run"] == 32 for r in records)
    assert {r["client"] for r in records} == {"requests", "aiohttp"}
    assert all(r["gil_cpu_s"] and r["gil_cpu_s"] > 0 for r in records)
    head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=REPO, capture_output=True,
                          text=True, check=True).stdout.strip()
    assert data["commit_info"]["id"] == head
    service = suite(tmp_path, "--workload", "myservice.py:FetchPage", "--param", "delay_ms=5",
                    "--param", "n=2000", "--runner", "asyncio,threads", "--concurrency", "4",
                    "--rate", "20", "--duration-s", "0.5", "--benchmark-json=service.json")
    assert service.returncode == 0, service.stdout[-3000:] + service.stderr[-3000:]
    infos = [b["extra_info"] for b in json.loads((tmp_path / "service.json").read_text())[
        "benchmarks"]]
    assert len(infos) == 2 and all(i["ok"] == i["tasks"] for i in infos)
    from bench.report.page import write_report

    write_report([tmp_path / "batch.json"], tmp_path / "report")
    assert f"`{head}`" in (tmp_path / "report" / "REPORT.md").read_text()


def test_a_users_own_workload_runs_in_service_mode(tmp_path: Path) -> None:
    """The README's workload, from the user's own folder, under --rate: every model gets a
    saturation in the report, the deployment runners too."""
    (tmp_path / "myjobs.py").write_text(readme_example())
    out = tmp_path / "run.json"
    result = suite(tmp_path, "--workload", "myjobs.py:FetchAndSum", "--param", "wait_s=0.002",
                   "--param", "n=30000", "--runner", "asyncio,threads,procs-asyncio",
                   "--concurrency", "4", "--rate", "20,40", "--duration-s", "0.5",
                   f"--benchmark-json={out}")
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    infos = [b["extra_info"] for b in json.loads(out.read_text())["benchmarks"]]
    assert len(infos) == 6 and all(i["ok"] + i["failed"] == i["tasks"] for i in infos)
    from bench.report.page import write_report

    write_report([out], tmp_path)
    report = (tmp_path / "REPORT.md").read_text()
    assert "## Which model holds the load?" in report and "procs-asyncio" in report
