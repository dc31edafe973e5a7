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


MAX_MODULE_LINES = 450
MAX_FUNCTION_LINES = 60


def test_product_modules_and_functions_stay_small_enough_to_read_whole() -> None:
    import ast

    too_long = []
    for folder in ("bench", "workloads", "scripts"):
        for path in sorted((REPO / folder).glob("**/*.py")):
            text = path.read_text()
            if len(text.splitlines()) > MAX_MODULE_LINES:
                too_long.append(f"{path.relative_to(REPO)}: {len(text.splitlines())} lines")
            for node in ast.walk(ast.parse(text)):
                if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                    length = (node.end_lineno or node.lineno) - node.lineno + 1
                    if length > MAX_FUNCTION_LINES:
                        too_long.append(f"{path.relative_to(REPO)}:{node.lineno} {node.name}: "
                                        f"{length} lines")
    assert too_long == []
