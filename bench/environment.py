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

LIBRARIES = ("aiohttp", "requests", "pytest", "pytest-benchmark", "psutil", "pandas",
             "matplotlib", "concurrency-bench")


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
        "default_start_method": multiprocessing.get_start_method(),
    }


def library_versions() -> dict[str, str]:
    versions = {}
    for name in LIBRARIES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "not installed"
    return versions
