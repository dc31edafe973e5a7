"""Run the benchmark suite under other Pythons: one environment per interpreter build.

    python scripts/interpreters.py env PYTHON
        make (or reuse) the measuring environment of PYTHON and print its interpreter
    python scripts/interpreters.py run [--out DIR] [--interleave P] PYTHON [PYTHON ...]
                                       [-- PYTEST ARGS]
        run the suite under each PYTHON into one run folder (one pytest-benchmark JSON per
        interpreter), then build one report from all of them

With `--interleave P` (and `--rounds N` among the pytest arguments) the interpreters take
turns: pass 1 under each, then pass 2 under each, and so on, P passes of N rounds each.
A slow minute of a shared machine then lands on every interpreter, not on whichever ran
then; each interpreter's passes are merged into its one JSON, and the run is marked as one
session, so that a ratio between two of its interpreters carries a speedup's run-to-run
term (the drift they share cancels), not the sum of two separate runs' terms.

An interpreter is a path (or a command on PATH) plus, optionally, run-time settings after
colons: `/opt/ft/bin/python3.13t:PYTHON_GIL=1` is the free-threaded binary with the GIL
switched back on, `python3.14:PYTHON_JIT=1` the same build with its JIT on.  Each is a
column of its own; the binary's columns share one environment.

Each binary gets its own virtual environment under `.venvs/`, named after its build,
version and origin (`cp313-3.13.0-pyenv-…`, `cp313t-3.13.5-source-…`, `cp314-3.14.10-Debian-…`)
and remade when the project's requirements change, holding only what measuring needs:
the project without its `report` extra, so pandas, matplotlib and SciPy never have to
install there.  The environment is made and filled by the main environment's uv, which
needs neither pip nor ensurepip in the interpreter (Debian's and Ubuntu's Pythons lack
ensurepip) and takes seconds where pip took a minute.  The
test server and the report run on this (the main) environment's Python, so every
interpreter's column talks to the same server.

Bad input -- a missing interpreter, one older than 3.11, a setting that does not exist or
changes nothing on that build, a build for which a package has no installable build -- is
one line on stderr and exit status 2, and leaves no environment or run folder half made.
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
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
ENVS = REPO / ".venvs"
RUNS = REPO / "results" / "runs"
MIN_VERSION = (3, 11)
SERVER_PYTHON = "CONCURRENCY_BENCH_SERVER_PYTHON"  # read by workloads.server.ServerProcess
# What the interpreter says of itself under its settings (bench.environment needs only the
# standard library, so it imports on any interpreter before its environment exists).
PROBE = ("import json, sys, sysconfig; sys.path.insert(0, {repo!r}); "
         "from bench.environment import gil_enabled, jit_state, origin, build_facts; "
         "print(json.dumps({{'version': list(sys.version_info[:3]), "
         "'tag': sys.implementation.cache_tag, "
         "'free_threaded': bool(sysconfig.get_config_var('Py_GIL_DISABLED')), "
         "'gil': gil_enabled(), 'jit': jit_state(), 'origin': origin(), "
         "'jit_built': build_facts()['jit_built']}}))")
# The run-time settings a column may carry, and the values each takes.
SETTINGS = {"PYTHON_GIL": ("0", "1"), "PYTHON_JIT": ("0", "1")}
KNOWN = ", ".join(f"{name}={'|'.join(values)}" for name, values in SETTINGS.items())


class InterpreterError(Exception):
    """An interpreter that cannot be measured; the message is one line."""


@dataclass(frozen=True)
class Interpreter:
    given: str  # as the user named it
    path: Path
    version: tuple[int, ...]
    build: str  # e.g. cp313 or cp313t
    origin: str = "unknown"  # pyenv, Debian, source... (bench.environment.origin)
    settings: dict[str, str] = field(default_factory=dict)

    @property
    def binary_key(self) -> str:
        """The build, its version and who built it, e.g. cp313-3.13.5-source or
        cp314-3.14.10-Debian: two builds of one version never share a result file."""
        return f"{self.build}-{'.'.join(map(str, self.version))}-{self.origin}"

    @property
    def key(self) -> str:
        """The column: the binary and its settings, e.g. cp313t-3.13.5-source+PYTHON_GIL=1."""
        return self.binary_key + "".join(f"+{name}={value}" for name, value
                                         in sorted(self.settings.items()))

    @property
    def env(self) -> Path:
        """One environment per binary (its settings' columns share it), told apart from
        another binary of the same build by its path."""
        digest = hashlib.sha256(str(self.path.resolve()).encode()).hexdigest()[:8]
        return ENVS / f"{self.binary_key}-{digest}"

    @property
    def env_python(self) -> Path:
        return self.env / "bin" / "python"


def parse(given: str) -> tuple[str, dict[str, str]]:
    """`PATH[:NAME=VALUE...]` into the path and its settings, every setting checked."""
    path, *parts = given.split(":")
    settings: dict[str, str] = {}
    for part in parts:
        name, sep, value = part.partition("=")
        if not sep or name not in SETTINGS:
            raise InterpreterError(f"interpreter {given}: unknown setting {part!r} (known: "
                                   f"{KNOWN})")
        if value not in SETTINGS[name]:
            raise InterpreterError(f"interpreter {given}: {name}={value} does not exist: "
                                   f"{name} takes {' or '.join(SETTINGS[name])}")
        settings[name] = value
    if not path:
        raise InterpreterError(f"interpreter {given}: no interpreter before the settings")
    return path, settings


def _refused(stderr: str) -> str:
    """The interpreter's own reason for refusing to start, in one line."""
    lines = [line.strip() for line in stderr.splitlines() if line.strip()]
    fatal = [line.split(":", 2)[-1].strip() for line in lines if "Fatal Python error" in line]
    return (fatal or lines or ["no reason given"])[0]


def _check_settings(given: str, settings: dict[str, str], facts: dict[str, object]) -> None:
    """A setting that changes nothing on this build would make a column identical to
    another under a different name: refused."""
    if settings.get("PYTHON_GIL") == "1" and not facts["free_threaded"]:
        raise InterpreterError(f"interpreter {given}: PYTHON_GIL=1 changes nothing on a build "
                               "with the GIL (it switches the GIL back on in a free-threaded "
                               "build)")
    if "PYTHON_JIT" in settings and facts["jit"] == "not available":
        raise InterpreterError(f"interpreter {given}: PYTHON_JIT changes nothing: this build "
                               "has no JIT (it needs 3.13+ configured with "
                               "--enable-experimental-jit)")
    if settings.get("PYTHON_JIT") == "1" and facts["jit"] != "enabled":
        raise InterpreterError(f"interpreter {given}: PYTHON_JIT=1 did not switch the JIT on "
                               f"(it reports {facts['jit']})")


def find(given: str) -> Interpreter:
    """The interpreter named `given` (a path or a command on PATH, then its settings),
    checked by starting it under those settings."""
    name, settings = parse(given)
    found = shutil.which(name)
    if found is None:
        raise InterpreterError(f"interpreter {given}: not found")
    environment = {key: value for key, value in os.environ.items() if key not in SETTINGS}
    try:
        probe = subprocess.run([found, "-c", PROBE.format(repo=str(REPO))],
                               capture_output=True, text=True, timeout=60,
                               env={**environment, **settings})
    except (OSError, subprocess.SubprocessError):
        raise InterpreterError(f"interpreter {given}: not a working Python") from None
    if probe.returncode != 0 and settings:
        raise InterpreterError(f"interpreter {given}: it refuses "
                               f"{' '.join(f'{k}={v}' for k, v in settings.items())}: "
                               f"{_refused(probe.stderr)}")
    try:
        if probe.returncode != 0:
            raise ValueError
        facts = json.loads(probe.stdout)
    except ValueError:
        raise InterpreterError(f"interpreter {given}: not a working Python (3.11 or newer)"
                               ) from None
    version = tuple(facts["version"])
    if version[:2] < MIN_VERSION:
        raise InterpreterError(f"interpreter {given}: Python {'.'.join(map(str, version))} is "
                               f"older than {'.'.join(map(str, MIN_VERSION))}, which the suite "
                               "needs")
    _check_settings(given, settings, facts)
    build = str(facts["tag"]).replace("cpython-", "cp") + ("t" if facts["free_threaded"] else "")
    return Interpreter(given, Path(found), version, build, str(facts["origin"]), settings)


def _fingerprint(interpreter: Interpreter) -> str:
    """What the environment was made from: the project's requirements and the interpreter
    itself (another Python at the same version makes a new environment)."""
    made_from = (REPO / "pyproject.toml").read_bytes() + str(interpreter.path.resolve()).encode()
    return hashlib.sha256(made_from + f"{RECIPE}:{OPTIONAL_EXTRA}".encode()).hexdigest()


OPTIONAL_EXTRA = "servers"  # installed package by package where each has a build
RECIPE = 4  # how an environment is made: a change here makes every environment anew


def _optional(extra: str) -> list[str]:
    """The requirements of one of the project's extras (pyproject.toml)."""
    import tomllib
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    return list(project["optional-dependencies"][extra])


def _failed_package(output: str) -> str:
    """The package the installer (uv, or pip) could not install, from its own words."""
    for pattern in (r"No matching distribution found for ([A-Za-z0-9_.\-]+)",
                    r"Because ([A-Za-z0-9_.\-]+?)(?:[<>=!~][^ ]*)? has no (?:usable )?wheels",
                    r"Because only ([A-Za-z0-9_.\-]+?)[<>=!~]",
                    r"Because there (?:is|are) no versions? of ([A-Za-z0-9_.\-]+?)[<>=!~ ]",
                    r"Failed to build ([A-Za-z0-9_.\-]+)",
                    r"Could not build wheels for ([A-Za-z0-9_.\-]+)",
                    r"Building wheel for ([A-Za-z0-9_.\-]+) \(pyproject\.toml\) did not run"):
        found = re.findall(pattern, output)
        if found:
            return str(found[-1]).rstrip(",.")
    return "a dependency"


def _uv(*args: str) -> subprocess.CompletedProcess[str]:
    """uv (the main environment's) makes and fills an environment: it needs no pip and no
    ensurepip in the interpreter (which distribution builds lack), and installs in seconds."""
    return subprocess.run([sys.executable, "-m", "uv", *args], capture_output=True, text=True,
                          timeout=1800)


def ensure_env(interpreter: Interpreter) -> Path:
    """The measuring environment of `interpreter`, made (all or nothing) if needed."""
    stamp = interpreter.env / ".installed"
    if stamp.exists() and stamp.read_text() == _fingerprint(interpreter):
        return interpreter.env_python
    partial = interpreter.env.with_name(interpreter.env.name + ".partial")
    shutil.rmtree(partial, ignore_errors=True)
    python = str(partial / "bin" / "python")
    # Compiled at install, as pip does (with PYTHONDONTWRITEBYTECODE set, never after).
    install = ["pip", "install", "--quiet", "--compile-bytecode", "--python", python,
               "--only-binary", ":all:"]
    try:
        done = _uv("venv", "--quiet", "--python", str(interpreter.path), str(partial))
        if done.returncode != 0:
            raise InterpreterError(f"interpreter {interpreter.given}: cannot make a "
                                   f"virtual environment: {_refused(done.stderr)}")
        # With the servers of the real deployments (app-* runners) in one go where every
        # one has a build; else the project alone, then each server where a build of it
        # installs (one without leaves those runners skipped, with why).
        together = _uv(*install, "-e", f"{REPO}[subinterpreters,{OPTIONAL_EXTRA}]")
        if together.returncode != 0:
            done = _uv(*install, "-e", f"{REPO}[subinterpreters]")
            if done.returncode != 0:
                raise InterpreterError(
                    f"interpreter {interpreter.given}: cannot install "
                    f"{_failed_package(done.stdout + done.stderr)} (no build of it for "
                    f"{interpreter.build})")
            for requirement in _optional(OPTIONAL_EXTRA):
                _uv(*install, requirement)
        shutil.rmtree(interpreter.env, ignore_errors=True)
        partial.rename(interpreter.env)
        stamp.write_text(_fingerprint(interpreter))
    finally:
        shutil.rmtree(partial, ignore_errors=True)
    return interpreter.env_python


def _file_names(interpreters: list[Interpreter]) -> list[str]:
    """Each column's result file: its key, with the environment's path digest added where
    two binaries share build, version and origin (two source builds at different prefixes)."""
    keys = [i.key for i in interpreters]
    return [key if keys.count(key) == 1 else f"{key}-{i.env.name.rsplit('-', 1)[1]}"
            for key, i in zip(keys, interpreters, strict=True)]


SESSION_KEY = "concurrency_bench_session"  # read by bench.report.load


def _merged(parts: list[Path], session: str) -> dict[str, object]:
    """One interpreter's interleaved passes as one pytest-benchmark JSON: part k's
    benchmarks become pass k of their scenarios."""
    merged: dict[str, object] = json.loads(parts[0].read_text())
    benchmarks = []
    for index, part in enumerate(parts, start=1):
        for bench in json.loads(part.read_text())["benchmarks"]:
            bench["extra_info"]["pass_index"] = index
            for key in ("name", "fullname"):
                if index > 1 and str(bench.get(key, "")).endswith("]"):
                    bench[key] = f"{bench[key][:-1]}-pass{index}]"
            benchmarks.append(bench)
    merged["benchmarks"] = benchmarks
    merged[SESSION_KEY] = session
    return merged


def _one_run(interpreter: Interpreter, env_python: Path, into: Path, pytest_args: list[str],
             environment: dict[str, str]) -> None:
    done = subprocess.run([str(env_python), "-m", "pytest", "bench", "--benchmark-only",
                           f"--benchmark-json={into}", "-p", "no:cacheprovider",
                           *pytest_args], cwd=REPO, env={**environment, **interpreter.settings})
    if done.returncode != 0:
        raise InterpreterError(f"interpreter {interpreter.given}: the benchmark run "
                               f"failed (exit {done.returncode}); no results kept")
    if not into.exists():
        raise InterpreterError(f"interpreter {interpreter.given}: every scenario was skipped "
                               "(the reasons are above); no results kept")


def _given(flag: str, args: list[str]) -> bool:
    return any(arg == flag or arg.startswith(f"{flag}=") for arg in args)


def _check_interleave(pytest_args: list[str]) -> None:
    """Interleaved turns are one pass of N rounds each: --rounds is needed, --passes is
    what --interleave sets."""
    if not _given("--rounds", pytest_args):
        raise InterpreterError("--interleave needs --rounds N among the pytest arguments "
                               "(one pass of N rounds per turn)")
    if _given("--passes", pytest_args):
        raise InterpreterError("--interleave P sets the passes; drop --passes from the "
                               "pytest arguments")


def run(pythons: list[str], pytest_args: list[str], out: Path | None,
        interleave: int = 0) -> Path:
    """Every interpreter's run into one folder, then one report; returns the folder."""
    if interleave:
        _check_interleave(pytest_args)
    interpreters = [find(given) for given in pythons]
    columns = [(i.path.resolve(), tuple(sorted(i.settings.items()))) for i in interpreters]
    if len(set(columns)) != len(columns):
        raise InterpreterError("an interpreter is given twice with the same settings ("
                               f"{', '.join(i.given for i in interpreters)})")
    files = _file_names(interpreters)
    envs = [ensure_env(interpreter) for interpreter in interpreters]  # all before any run
    folder = out or RUNS / (datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ") + "-interpreters")
    folder.mkdir(parents=True, exist_ok=False)
    # Each column's settings go to its run alone (and its workers, which inherit them); the
    # server strips them (workloads.server), so every column talks to the same server.
    environment = {key: value for key, value in os.environ.items() if key not in SETTINGS}
    environment[SERVER_PYTHON] = sys.executable
    written: list[Path] = []
    columns_of = list(zip(interpreters, envs, files, strict=True))
    try:
        if interleave:
            for turn in range(1, interleave + 1):
                for interpreter, env_python, name in columns_of:
                    print(f"== pass {turn} of {interleave}: {interpreter.given} "
                          f"({interpreter.key})", flush=True)
                    _one_run(interpreter, env_python, folder / f".{name}.pass{turn}.partial",
                             pytest_args, environment)
            for _, _, name in columns_of:
                parts = [folder / f".{name}.pass{turn}.partial"
                         for turn in range(1, interleave + 1)]
                final = folder / f"{name}.json"
                final.write_text(json.dumps(_merged(parts, folder.name), indent=1))
                for part in parts:
                    part.unlink()
                written.append(final)
        for interpreter, env_python, name in [] if interleave else columns_of:
            partial = folder / f".{name}.json.partial"
            print(f"== {interpreter.given} ({interpreter.key})", flush=True)
            _one_run(interpreter, env_python, partial, pytest_args, environment)
            final = folder / f"{name}.json"
            partial.rename(final)
            written.append(final)
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    from bench.report.page import write_report

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
    many.add_argument("--interleave", type=int, default=0, metavar="P",
                      help="P passes, the interpreters taking turns pass by pass (give "
                           "--rounds N to pytest)")
    parsed = parser.parse_args(args)
    try:
        if parsed.command == "env":
            print(ensure_env(find(parsed.python)))
        else:
            if parsed.interleave < 0:
                raise InterpreterError("--interleave: expected a number of passes, 1 or more")
            found = run(parsed.pythons, pytest_args, parsed.out, parsed.interleave)
            print(f"wrote {found / 'REPORT.md'}")
    except InterpreterError as exc:
        print(f"interpreters: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted: no results kept", file=sys.stderr)
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
