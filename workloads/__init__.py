"""What is measured: each job as a sync twin and an async twin, and the test server."""

from workloads.base import TaskFailed, Workload, WrongResult
from workloads.cpu import CpuWorkload
from workloads.hashing import HashWorkload
from workloads.http import HttpWorkload
from workloads.mixed import MixedWorkload
from workloads.sleep import SleepWorkload

WORKLOADS: dict[str, type[Workload]] = {
    cls.name: cls
    for cls in (SleepWorkload, HttpWorkload, CpuWorkload, HashWorkload, MixedWorkload)
}
# The workloads of the default matrix; the others are asked for by name.
DEFAULT_WORKLOADS = ("sleep", "http", "cpu")

__all__ = ["DEFAULT_WORKLOADS", "WORKLOADS", "CpuWorkload", "HashWorkload", "HttpWorkload",
           "MixedWorkload", "SleepWorkload", "TaskFailed", "Workload", "WrongResult"]
