"""The code stays ruff- and mypy-clean (strict), as the design asks."""

from __future__ import annotations

import subprocess
import sys

import pytest

from tests.conftest import REPO


@pytest.mark.parametrize("command", [
    [sys.executable, "-m", "ruff", "check", "bench", "workloads", "scripts", "tests"],
    [sys.executable, "-m", "mypy"],
], ids=["ruff", "mypy"])
def test_linters_pass(command: list[str]) -> None:
    result = subprocess.run(command, cwd=REPO, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
