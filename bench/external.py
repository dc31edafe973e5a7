"""Workloads from outside the project: `--workload package.module:Class` or
`--workload path/to/file.py:Class`.

The class is the same public API as ours (`workloads.Workload`: a frozen dataclass with
`name`, the sync twin `call`, optionally the async twin `acall`, `check`, and optionally
`task_seconds`); loading it registers it like a built-in.  A file's folder is put on
`sys.path` and the file imported as a module, so that process pools of any start method
can import it again in their workers.
"""

from __future__ import annotations

import dataclasses
import importlib
import inspect
import sys
from pathlib import Path

from workloads import WORKLOADS, Workload, register_workload


class ExternalError(ValueError):
    """A workload class that cannot be used; the message is one line."""


def is_external(entry: str) -> bool:
    return ":" in entry


def load(entry: str) -> str:
    """Import and register the class `entry` names; return its registry name."""
    target, _, class_name = entry.rpartition(":")
    if not target or not class_name:
        raise ExternalError(f"--workload {entry}: expected module:Class or file.py:Class")
    module_name = target
    if target.endswith(".py") or "/" in target:
        path = Path(target).resolve()
        if not path.is_file():
            raise ExternalError(f"--workload {entry}: no such file {target}")
        if str(path.parent) not in sys.path:
            sys.path.insert(0, str(path.parent))
        module_name = path.stem
    try:
        module = importlib.import_module(module_name)
    except Exception as exc:  # the user's module may fail in any way; say how, in one line
        raise ExternalError(f"--workload {entry}: cannot import {module_name} "
                            f"({type(exc).__name__}: {exc})") from None
    cls = getattr(module, class_name, None)
    if not (isinstance(cls, type) and issubclass(cls, Workload)
            and dataclasses.is_dataclass(cls)):
        raise ExternalError(f"--workload {entry}: {module_name} has no Workload dataclass "
                            f"named {class_name}")
    if inspect.isabstract(cls):
        missing = ", ".join(sorted(cls.__abstractmethods__))
        raise ExternalError(f"--workload {entry}: {class_name} does not define {missing}")
    name = getattr(cls, "name", None)
    if not isinstance(name, str) or not name:
        raise ExternalError(f"--workload {entry}: {class_name} needs a name "
                            "(name: ClassVar[str] = \"...\")")
    known = WORKLOADS.get(name)
    if known is not None and known is not cls:
        raise ExternalError(f"--workload {entry}: the name {name!r} is taken by "
                            f"{known.__module__}.{known.__qualname__}")
    register_workload(cls)
    return name
