"""What is measured: each job as a sync twin and an async twin, and the test server."""

from workloads.base import TaskFailed, Workload, WrongResult
from workloads.cpu import CpuWorkload
from workloads.http import HttpWorkload
from workloads.sleep import SleepWorkload

WORKLOADS: dict[str, type[Workload]] = {
    cls.name: cls for cls in (SleepWorkload, HttpWorkload, CpuWorkload)
}

__all__ = ["WORKLOADS", "CpuWorkload", "HttpWorkload", "SleepWorkload", "TaskFailed",
           "Workload", "WrongResult"]
