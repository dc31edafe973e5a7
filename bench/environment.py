"""Where a result came from: the Python build and the library versions.

Recorded with every run so that a figure can be traced to what produced it.
"""

from __future__ import annotations

import multiprocessing
import os
import platform
import sys
import sysconfig
from importlib import metadata

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
