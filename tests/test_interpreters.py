"""The suite under other Pythons: one measuring environment each, one server, one report."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from scripts.interpreters import ENVS, _failed_package, find
from tests.conftest import REPO

PYENV = Path.home() / ".pyenv" / "versions"
PY313 = PYENV / "3.13.0" / "bin" / "python3.13"
PY310 = PYENV / "3.10.13" / "bin" / "python3.10"


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
    assert found.env == ENVS / f"{found.build}-{version}"


@pytest.mark.skipif(not PY313.exists(), reason=f"no Python 3.13 at {PY313}")
def test_two_interpreters_one_server_one_report(tmp_path: Path) -> None:
    out = tmp_path / "run"
    result = interpreters("run", sys.executable, str(PY313), "--out", str(out), "--",
                          "--workload", "cpu", "--runner", "sequential,threads,interpreters",
                          "--tasks", "4", "--concurrency", "2", "--cpu-n", "20000",
                          "--rounds", "2")
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    main_build = find(sys.executable).key
    assert sorted(p.name for p in out.glob("*.json")) == sorted([f"{main_build}.json",
                                                                 "cp313-3.13.0.json"])
    versions = {json.loads(p.read_text())["machine_info"]["python_build"]["python"]
                for p in out.glob("*.json")}
    assert versions == {"3.13.0", ".".join(map(str, sys.version_info[:3]))}
    table = pd.read_csv(out / "table.csv")
    assert set(table["interpreter"]) == versions
    # Subinterpreters run on 3.13 (the backport) and are skipped, with the reason, on 3.11.
    assert set(table.loc[table["runner"] == "interpreters", "interpreter"]) == {"3.13.0"}
    assert (table["ok"] == table["tasks_run"]).all()
    report = (out / "REPORT.md").read_text()
    assert "## Interpreters" in report and "Single-thread cost" in report
    assert (out / "interpreters.png").read_bytes().startswith(b"\x89PNG")
    for claim in ("On a free-threaded build", "costs single-thread speed",
                  "Subinterpreters scale CPU work"):
        assert claim in report
    if sys.version_info < (3, 12):  # no gap without its reason
        assert "- interpreters is not available on Python 3.11" in report
        assert "subinterpreters need Python 3.12 or newer" in report
