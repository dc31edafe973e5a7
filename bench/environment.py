"""Where a result came from: the Python build and the library versions.

Recorded with every run so that a figure can be traced to what produced it.
"""

from __future__ import annotations

import multiprocessing
import os
import platform
import subprocess
import sys
import sysconfig
from importlib import metadata
from pathlib import Path
from typing import Any

LIBRARIES = ("aiohttp", "requests", "httpx", "uvloop", "distributed", "pytest",
             "pytest-benchmark", "psutil", "pandas", "matplotlib", "concurrency-bench")


def gil_enabled() -> bool:
    """False only on a free-threaded build running with the GIL off."""
    check = getattr(sys, "_is_gil_enabled", None)
    return True if check is None else bool(check())


def usable_cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def python_build() -> dict[str, object]:
    return {
        "python": platform.python_version(),
        "implementation": platform.python_implementation(),
        "build": " ".join(platform.python_build()),
        "compiler": platform.python_compiler(),
        "free_threaded_build": bool(sysconfig.get_config_var("Py_GIL_DISABLED")),
        "gil_enabled": gil_enabled(),
        "python_gil_env": os.environ.get("PYTHON_GIL"),  # a free-threaded build honours it
        "jit": jit_state(),
        "cache_tag": sys.implementation.cache_tag,
        # How it was built: two builds compared as "GIL vs free-threaded" must differ in
        # nothing else (claim 11 checks these).
        "config_args": sysconfig.get_config_var("CONFIG_ARGS") or "",
        "default_start_method": multiprocessing.get_start_method(),
        # The run-time switches this run was started with (scripts/interpreters.py sets
        # them per column): the same binary with PYTHON_GIL=1 or PYTHON_JIT=1 is a column of
        # its own.
        "settings": {name: os.environ[name] for name in SETTINGS if name in os.environ},
        **build_facts(),
    }


SETTINGS = ("PYTHON_GIL", "PYTHON_JIT")  # run-time switches that change what is measured


def _flags() -> str:
    return " ".join(str(sysconfig.get_config_var(name) or "") for name in
                    ("CONFIG_ARGS", "OPT", "PY_CFLAGS_NODIST", "PY_CORE_CFLAGS",
                     "PY_LDFLAGS_NODIST"))


def origin() -> str:
    """Who built this interpreter, as far as its own paths and configure line tell: pyenv,
    a Debian/Ubuntu package, another distribution's package, or a build from source."""
    args = str(sysconfig.get_config_var("CONFIG_ARGS") or "")
    if "/.pyenv/versions/" in sys.base_prefix or "/.pyenv/versions/" in args:
        return "pyenv"
    if "/usr/share/python-wheels" in args or "debian" in args.lower():
        return "Debian"
    if "'--prefix=/usr'" in args:
        return "distribution"
    return "source" if args else "unknown"


def build_facts() -> dict[str, object]:
    """What in a build changes its speed, read from its own configuration: two builds of
    one version that differ here are different columns (claims 10-12 check them)."""
    flags = _flags()
    args = str(sysconfig.get_config_var("CONFIG_ARGS") or "")
    jit = next((arg.split("=", 1)[1].strip("'\"") if "=" in arg else "yes"
                for arg in args.split() if arg.strip("'\"").startswith(
                    "--enable-experimental-jit")), "no")
    optimisation = next((word for word in str(sysconfig.get_config_var("OPT") or "").split()
                         if word.startswith("-O")), "")
    libc = " ".join(part for part in platform.libc_ver() if part)
    return {
        "origin": origin(),
        # A packager may pass PGO and LTO to make rather than to configure (Debian does):
        # then nothing in the build's configuration says so, and the record says that.
        "pgo": "yes" if "--enable-optimizations" in args or "-fprofile-use" in flags
        else "not in its configuration",
        "lto": "yes" if "--with-lto" in args or "-flto" in flags
        else "not in its configuration",
        "jit_built": jit,  # "no", "yes", "yes-off" (built, off unless PYTHON_JIT=1)...
        "debug": bool(sysconfig.get_config_var("Py_DEBUG")),
        "optimisation": optimisation,
        "frame_pointers": "-fno-omit-frame-pointer" in flags,
        "libc": libc or "unknown",
    }


def jit_state() -> str:
    """'enabled' / 'disabled' where the interpreter can say (3.14+), else 'not available'."""
    jit = getattr(sys, "_jit", None)
    if jit is None or not hasattr(jit, "is_enabled"):
        return "not available"
    return "enabled" if jit.is_enabled() else "disabled"


def library_versions() -> dict[str, str]:
    versions = {}
    for name in LIBRARIES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "not installed"
    return versions


SUITE_ROOT = Path(__file__).resolve().parent.parent  # the checkout the suite runs from


def _git(*args: str) -> str | None:
    try:
        done = subprocess.run(["git", "-C", str(SUITE_ROOT), *args], capture_output=True,
                              text=True, timeout=10, check=False)
    except (OSError, subprocess.SubprocessError):
        return None
    return done.stdout.strip() if done.returncode == 0 else None


def suite_commit() -> dict[str, Any]:
    """The suite's own commit, read in its own checkout, wherever pytest was started (under
    `--pyargs bench` the working directory is the user's project, whose commit says
    nothing about the code that measured)."""
    found = _git("rev-parse", "HEAD")
    if not found:
        return {"id": "unversioned", "project": "concurrency-bench", "dirty": False,
                "branch": "(not a git checkout: concurrency-bench "
                          f"{metadata.version('concurrency-bench')})",
                "time": None, "author_time": None}
    return {"id": found, "project": "concurrency-bench",
            "dirty": bool(_git("status", "--porcelain", "--untracked-files=no")),
            "branch": _git("rev-parse", "--abbrev-ref", "HEAD") or "(unknown)",
            "time": _git("log", "-1", "--pretty=%cI"),
            "author_time": _git("log", "-1", "--pretty=%aI")}
