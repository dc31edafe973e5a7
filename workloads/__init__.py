"""What is measured: each job as a sync twin and an async twin, and the test server.

Importing this package registers the built-in workloads; `WORKLOADS` maps each
registered name to its class, in registration order.
"""

from workloads.base import (
    WORKLOADS,
    TaskFailed,
    Workload,
    WrongResult,
    default_workloads,
    knob,
    register_workload,
)
from workloads.cpu import CpuWorkload
from workloads.db import DbWorkload
from workloads.get import GetWorkload
from workloads.hashing import HashWorkload
from workloads.http import HttpWorkload
from workloads.mixed import MixedWorkload
from workloads.sleep import SleepWorkload

__all__ = [
    "WORKLOADS", "CpuWorkload", "DbWorkload", "GetWorkload", "HashWorkload", "HttpWorkload",
    "MixedWorkload", "SleepWorkload", "TaskFailed", "Workload", "WrongResult",
    "default_workloads", "knob", "register_workload",
]
