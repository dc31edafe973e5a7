"""Run the benchmark suite under other Pythons: one environment per interpreter build.

    python scripts/interpreters.py env PYTHON
        make (or reuse) the measuring environment of PYTHON and print its interpreter
    python scripts/interpreters.py run [--out DIR] PYTHON [PYTHON ...] [-- PYTEST ARGS]
        run the suite under each PYTHON into one run folder (one pytest-benchmark JSON per
        interpreter), then build one report from all of them

Each interpreter gets its own virtual environment under `.venvs/`, named after its build
and version (`cp313-3.13.0`, `cp313t-3.13.5` for a free-threaded build, ...) and remade if
another interpreter of that name turns up, holding only what measuring needs:
the project without its `report` extra, so pandas, matplotlib and SciPy never have to
install there.  The test server and the report run on this (the main) environment's
Python, so every interpreter's column talks to the same server.

Bad input -- a missing interpreter, one older than 3.11, one for which a package has no
installable build -- is one line on stderr and exit status 2, and leaves no environment
or run folder half made.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
ENVS = REPO / ".venvs"
RUNS = REPO / "results" / "runs"
MIN_VERSION = (3, 11)
SERVER_PYTHON = "CONCURRENCY_BENCH_SERVER_PYTHON"  # read by workloads.server.ServerProcess
PIP_MIN = "pip>=24.1"  # the first pip that knows free-threaded wheel tags
PROBE = ("import json, sys, sysconfig; print(json.dumps({'version': list(sys.version_info[:3]), "
         "'tag': sys.implementation.cache_tag, "
         "'free_threaded': bool(sysconfig.get_config_var('Py_GIL_DISABLED'))}))")


class InterpreterError(Exception):
    """An interpreter that cannot be measured; the message is one line."""


@dataclass(frozen=True)
class Interpreter:
    given: str  # as the user named it
    path: Path
    version: tuple[int, ...]
    build: str  # e.g. cp313 or cp313t

    @property
    def key(self) -> str:
        """The build and its version, e.g. cp313-3.13.5 or cp313t-3.13.5: two builds of
        one minor version (pyenv's 3.13.0, a source-built 3.13.5) never share an
        environment or a result file."""
        return f"{self.build}-{'.'.join(map(str, self.version))}"

    @property
    def env(self) -> Path:
        return ENVS / self.key

    @property
    def env_python(self) -> Path:
        return self.env / "bin" / "python"


def find(given: str) -> Interpreter:
    """The interpreter named `given` (a path or a command on PATH), checked."""
    found = shutil.which(given)
    if found is None:
        raise InterpreterError(f"interpreter {given}: not found")
    try:
        probe = subprocess.run([found, "-c", PROBE], capture_output=True, text=True,
                               timeout=60, check=True)
        facts = json.loads(probe.stdout)
    except (OSError, subprocess.SubprocessError, ValueError):
        raise InterpreterError(f"interpreter {given}: not a working Python") from None
    version = tuple(facts["version"])
    if version[:2] < MIN_VERSION:
        raise InterpreterError(f"interpreter {given}: Python {'.'.join(map(str, version))} is "
                               f"older than {'.'.join(map(str, MIN_VERSION))}, which the suite "
                               "needs")
    build = str(facts["tag"]).replace("cpython-", "cp") + ("t" if facts["free_threaded"] else "")
    return Interpreter(given, Path(found), version, build)


def _fingerprint(interpreter: Interpreter) -> str:
    """What the environment was made from: the project's requirements and the interpreter
    itself (another Python at the same version makes a new environment)."""
    made_from = (REPO / "pyproject.toml").read_bytes() + str(interpreter.path.resolve()).encode()
    return hashlib.sha256(made_from).hexdigest()


def _failed_package(output: str) -> str:
    """The package pip could not install, from its own words."""
    for pattern in (r"No matching distribution found for ([A-Za-z0-9_.\-]+)",
                    r"Failed to build ([A-Za-z0-9_.\-]+)",
                    r"Could not build wheels for ([A-Za-z0-9_.\-]+)",
                    r"Building wheel for ([A-Za-z0-9_.\-]+) \(pyproject\.toml\) did not run"):
        found = re.findall(pattern, output)
        if found:
            return str(found[-1]).rstrip(",.")
    return "a dependency"


def ensure_env(interpreter: Interpreter) -> Path:
    """The measuring environment of `interpreter`, made (all or nothing) if needed."""
    stamp = interpreter.env / ".installed"
    if stamp.exists() and stamp.read_text() == _fingerprint(interpreter):
        return interpreter.env_python
    partial = interpreter.env.with_name(interpreter.env.name + ".partial")
    shutil.rmtree(partial, ignore_errors=True)
    try:
        steps = [[str(interpreter.path), "-m", "venv", str(partial)],
                 [str(partial / "bin" / "python"), "-m", "pip", "install", "--quiet",
                  "--disable-pip-version-check", "--upgrade", PIP_MIN],
                 [str(partial / "bin" / "python"), "-m", "pip", "install", "--quiet",
                  "--disable-pip-version-check", "--only-binary=:all:", "-e",
                  f"{REPO}[subinterpreters]"]]
        for step in steps:
            done = subprocess.run(step, capture_output=True, text=True, timeout=1800)
            if done.returncode != 0:
                raise InterpreterError(f"interpreter {interpreter.given}: cannot install "
                                       f"{_failed_package(done.stdout + done.stderr)} "
                                       f"(no build of it for {interpreter.build})")
        shutil.rmtree(interpreter.env, ignore_errors=True)
        partial.rename(interpreter.env)
        stamp.write_text(_fingerprint(interpreter))
    finally:
        shutil.rmtree(partial, ignore_errors=True)
    return interpreter.env_python


def run(pythons: list[str], pytest_args: list[str], out: Path | None) -> Path:
    """Every interpreter's run into one folder, then one report; returns the folder."""
    interpreters = [find(given) for given in pythons]
    builds = [i.key for i in interpreters]
    if len(set(builds)) != len(builds):
        raise InterpreterError(f"two of the interpreters are the same build and version "
                               f"({', '.join(builds)})")
    envs = [ensure_env(interpreter) for interpreter in interpreters]  # all before any run
    folder = out or RUNS / (datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ") + "-interpreters")
    folder.mkdir(parents=True, exist_ok=False)
    environment = {**os.environ, SERVER_PYTHON: sys.executable}
    written: list[Path] = []
    try:
        for interpreter, env_python in zip(interpreters, envs, strict=True):
            partial = folder / f".{interpreter.key}.json.partial"
            print(f"== {interpreter.given} ({interpreter.key})", flush=True)
            done = subprocess.run([str(env_python), "-m", "pytest", "bench", "--benchmark-only",
                                   f"--benchmark-json={partial}", "-p", "no:cacheprovider",
                                   *pytest_args], cwd=REPO, env=environment)
            if done.returncode != 0:
                raise InterpreterError(f"interpreter {interpreter.given}: the benchmark run "
                                       f"failed (exit {done.returncode}); no results kept")
            final = folder / f"{interpreter.key}.json"
            partial.rename(final)
            written.append(final)
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    from scripts.report import write_report  # the report needs the main environment

    write_report(written, folder)
    return folder


def main(argv: list[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    pytest_args: list[str] = []
    if "--" in args:
        cut = args.index("--")
        args, pytest_args = args[:cut], args[cut + 1:]
    parser = argparse.ArgumentParser(prog="interpreters.py", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    env = commands.add_parser("env", help="make the measuring environment of one interpreter")
    env.add_argument("python")
    many = commands.add_parser("run", help="run the suite under each interpreter, one report")
    many.add_argument("pythons", nargs="+")
    many.add_argument("--out", type=Path, help="run folder (default: a new one under "
                      "results/runs/)")
    parsed = parser.parse_args(args)
    try:
        if parsed.command == "env":
            print(ensure_env(find(parsed.python)))
        else:
            print(f"wrote {run(parsed.pythons, pytest_args, parsed.out) / 'REPORT.md'}")
    except InterpreterError as exc:
        print(f"interpreters: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted: no results kept", file=sys.stderr)
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
