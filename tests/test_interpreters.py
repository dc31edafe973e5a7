"""The suite under other Pythons: one measuring environment each, one server, one report."""

from __future__ import annotations

import json
import subprocess
import sys
import sysconfig
from pathlib import Path

import pandas as pd
import pytest

from scripts.interpreters import ENVS, _failed_package, find
from tests.conftest import REPO

PYENV = Path.home() / ".pyenv" / "versions"
PY313 = PYENV / "3.13.0" / "bin" / "python3.13"
PY310 = PYENV / "3.10.13" / "bin" / "python3.10"
# Made by ../shared/tools (install-debian-python 3.14, build-freethreaded-python) where present.
PY314 = Path("/opt/cpython-3.14-deb/usr/bin/python3.14")
FREE = Path("/opt/cpython-3.13t/bin/python3.13t")


def interpreters(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "scripts/interpreters.py", *args], cwd=REPO,
                          capture_output=True, text=True, timeout=1200)


def test_a_missing_interpreter_is_one_line_and_makes_nothing(tmp_path: Path) -> None:
    before = sorted(ENVS.iterdir()) if ENVS.exists() else []
    result = interpreters("run", "/no/such/python", "--out", str(tmp_path / "run"))
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "interpreters: error: interpreter /no/such/python: not found"]
    assert not (tmp_path / "run").exists()
    assert (sorted(ENVS.iterdir()) if ENVS.exists() else []) == before


@pytest.mark.skipif(not PY310.exists(), reason=f"no Python 3.10 at {PY310}")
def test_an_old_interpreter_is_refused_in_one_line() -> None:
    result = interpreters("env", str(PY310))
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        f"interpreters: error: interpreter {PY310}: Python 3.10.13 is older than 3.11, which "
        "the suite needs"]


def test_the_package_pip_could_not_install_is_named() -> None:
    assert _failed_package("ERROR: No matching distribution found for pandas>=2") == "pandas"
    assert _failed_package("... Failed to build numpy\n") == "numpy"
    assert _failed_package("something else") == "a dependency"


def test_the_build_names_the_environment() -> None:
    found = find(sys.executable)
    assert found.build == sys.implementation.cache_tag.replace("cpython-", "cp")
    version = ".".join(map(str, sys.version_info[:3]))
    assert found.key == f"{found.build}-{version}-{found.origin}"
    assert found.env.parent == ENVS and found.env.name.startswith(found.key + "-")
    assert find(sys.executable).env == found.env  # one binary, one environment


@pytest.mark.parametrize("given, message", [
    ("PYTHON_GIL=2", "PYTHON_GIL=2 does not exist: PYTHON_GIL takes 0 or 1"),
    ("PYTHON_JIT=yes", "PYTHON_JIT=yes does not exist: PYTHON_JIT takes 0 or 1"),
    ("PYTHON_FAST=1", "unknown setting 'PYTHON_FAST=1' (known: PYTHON_GIL=0|1, "
                      "PYTHON_JIT=0|1)"),
])
def test_a_setting_that_does_not_exist_is_one_line_and_exit_2(given: str, message: str,
                                                              tmp_path: Path) -> None:
    result = interpreters("run", f"{sys.executable}:{given}", "--out", str(tmp_path / "run"))
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        f"interpreters: error: interpreter {sys.executable}:{given}: {message}"]
    assert not (tmp_path / "run").exists()


@pytest.mark.skipif(sysconfig.get_config_var("Py_GIL_DISABLED") or sys.version_info >= (3, 13),
                    reason="needs a GIL build without a JIT as the main Python")
def test_a_setting_that_changes_nothing_on_this_build_is_refused() -> None:
    for given, why in ((f"{sys.executable}:PYTHON_GIL=1", "changes nothing on a build with "
                        "the GIL"), (f"{sys.executable}:PYTHON_JIT=1", "this build has no JIT")):
        result = interpreters("env", given)
        assert result.returncode == 2 and len(result.stderr.strip().splitlines()) == 1
        assert why in result.stderr


@pytest.mark.skipif(not FREE.exists(), reason=f"no free-threaded build at {FREE} (make it "
                    "with ../shared/tools/build-freethreaded-python)")
def test_one_binary_with_the_gil_switched_on_is_a_column_of_its_own() -> None:
    plain, switched = find(str(FREE)), find(f"{FREE}:PYTHON_GIL=1")
    assert switched.settings == {"PYTHON_GIL": "1"}
    assert switched.key == plain.key + "+PYTHON_GIL=1"
    assert switched.env == plain.env  # the same binary shares its environment
    refused = interpreters("env", f"{FREE}:PYTHON_GIL=0:PYTHON_JIT=1")
    assert refused.returncode == 2 and "this build has no JIT" in refused.stderr


@pytest.mark.skipif(not PY314.exists(), reason=f"no Debian Python 3.14 at {PY314} (make it "
                    "with ../shared/tools/install-debian-python 3.14)")
def test_a_python_without_ensurepip_is_measured_and_3_14_uses_its_own_executor(
        tmp_path: Path) -> None:
    """Debian's 3.14 has no ensurepip: its environment is made without it.  Its
    subinterpreters come from the standard library, and the record says so; the same
    binary with PYTHON_JIT=1 is a column of its own, named so."""
    out = tmp_path / "run"
    result = interpreters("run", str(PY314), f"{PY314}:PYTHON_JIT=1", "--out", str(out), "--",
                          "--workload", "cpu", "--runner", "sequential,interpreters",
                          "--tasks", "2", "--concurrency", "2", "--cpu-n", "20000",
                          "--rounds", "2")
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert sorted(p.name for p in out.glob("*.json")) == [
        "cp314-3.14.10-Debian+PYTHON_JIT=1.json", "cp314-3.14.10-Debian.json"]
    jit = json.loads((out / "cp314-3.14.10-Debian+PYTHON_JIT=1.json").read_text())
    build = jit["machine_info"]["python_build"]
    assert build["settings"] == {"PYTHON_JIT": "1"} and build["jit"] == "enabled"
    assert build["origin"] == "Debian" and build["jit_built"] == "yes-off"
    details = [b["extra_info"]["runner_details"] for b in jit["benchmarks"]
               if b["extra_info"]["runner"] == "interpreters"]
    assert details and all("standard library" in d["executor"] for d in details)
    table = pd.read_csv(out / "table.csv")
    assert set(table["interpreter"]) == {"3.14.10 (Debian)", "3.14.10 (Debian) PYTHON_JIT=1"}
    report = (out / "REPORT.md").read_text()
    # Read against its own binary, which differs in nothing else.
    assert "| 3.14.10 (Debian) PYTHON_JIT=1 | 3.14.10 (Debian) | settings |" in report
    assert "concurrent.futures.InterpreterPoolExecutor (standard library)" in report


@pytest.mark.skipif(not PY313.exists(), reason=f"no Python 3.13 at {PY313}")
def test_two_interpreters_one_server_one_report(tmp_path: Path) -> None:
    out = tmp_path / "run"
    # Taking turns, pass by pass: two passes of one round each, merged per interpreter.
    result = interpreters("run", sys.executable, str(PY313), "--out", str(out),
                          "--interleave", "2", "--", "--workload", "cpu",
                          "--runner", "sequential,threads,interpreters", "--tasks", "4",
                          "--concurrency", "2", "--cpu-n", "20000", "--rounds", "1")
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    main = find(sys.executable)
    turns = [line for line in result.stdout.splitlines() if line.startswith("== pass")]
    assert [line.split(":")[0] for line in turns] == ["== pass 1 of 2"] * 2 + \
        ["== pass 2 of 2"] * 2
    for path in out.glob("*.json"):
        data = json.loads(path.read_text())
        assert data["concurrency_bench_session"] == out.name
        assert {b["extra_info"]["pass_index"] for b in data["benchmarks"]} == {1, 2}
    assert sorted(p.name for p in out.glob("*.json")) == sorted([f"{main.key}.json",
                                                                 "cp313-3.13.0-pyenv.json"])
    versions = {json.loads(p.read_text())["machine_info"]["python_build"]["python"]
                for p in out.glob("*.json")}
    assert versions == {"3.13.0", ".".join(map(str, sys.version_info[:3]))}
    table = pd.read_csv(out / "table.csv")
    assert set(table["interpreter"]) == {"3.13.0 (pyenv)", ".".join(map(
        str, sys.version_info[:3])) + f" ({main.origin})"}
    # Subinterpreters run on 3.13 (the backport) and are skipped, with the reason, on 3.11.
    assert set(table.loc[table["runner"] == "interpreters", "interpreter"]) == {
        "3.13.0 (pyenv)"}
    assert "(PEP 734 backport)" in (out / "REPORT.md").read_text()
    assert (table["ok"] == table["tasks_run"]).all()
    report = (out / "REPORT.md").read_text()
    assert "## Interpreters" in report and "Single-thread cost" in report
    assert (out / "interpreters.png").read_bytes().startswith(b"\x89PNG")
    for claim in ("On a free-threaded build", "costs single-thread speed",
                  "Subinterpreters scale CPU work"):
        assert claim in report
    assert set(table["passes"]) == {2} and set(table["rounds"]) == {2}
    unpaired = interpreters("run", "--out", str(tmp_path / "unpaired"), "--interleave", "2",
                            sys.executable)
    assert unpaired.returncode == 2
    assert unpaired.stderr.strip() == ("interpreters: error: --interleave needs --rounds N "
                                       "among the pytest arguments (one pass of N rounds per "
                                       "turn)")
    twice = interpreters("run", "--out", str(tmp_path / "twice"), "--interleave", "2",
                         sys.executable, "--", "--rounds", "2", "--passes", "3")
    assert twice.returncode == 2 and twice.stderr.strip() == (
        "interpreters: error: --interleave P sets the passes; drop --passes from the pytest "
        "arguments")
    assert not (tmp_path / "unpaired").exists() and not (tmp_path / "twice").exists()
    if sys.version_info < (3, 12):  # no gap without its reason
        assert "- interpreters is not available on Python 3.11" in report
        assert "subinterpreters need Python 3.12 or newer" in report


@pytest.mark.skipif(not PY313.exists(), reason=f"no Python 3.13 at {PY313}")
def test_a_deployment_is_served_by_the_interpreter_and_loaded_from_the_main_one(
        tmp_path: Path) -> None:
    """gunicorn runs on the interpreter measured; the load generator stays on the main
    environment's Python, whose packages are not that interpreter's."""
    out = tmp_path / "run"
    result = interpreters("run", str(PY313), "--out", str(out), "--", "--workload", "sleep",
                          "--runner", "app-gunicorn-sync", "--app-workers", "1", "--rate", "20",
                          "--duration-s", "1")
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    table = pd.read_csv(out / "table.csv")
    assert set(table["runner"]) == {"app-gunicorn-sync"}
    assert set(table["interpreter"]) == {"3.13.0 (pyenv)"}
    assert (table["ok"] == table["tasks_run"]).all() and (table["ok"] >= 20).all()


@pytest.mark.skipif(sys.version_info >= (3, 12), reason="needs a runner this Python skips: "
                    "subinterpreters run on 3.12 and newer")
def test_a_run_whose_every_scenario_is_skipped_is_one_line(tmp_path: Path) -> None:
    result = interpreters("run", sys.executable, "--out", str(tmp_path / "run"), "--",
                          "--workload", "cpu", "--runner", "interpreters", "--tasks", "2")
    assert result.returncode == 2
    assert result.stderr.strip().splitlines()[-1] == (
        f"interpreters: error: interpreter {sys.executable}: every scenario was skipped (the "
        "reasons are above); no results kept")
    assert not (tmp_path / "run").exists()
