"""How tasks are run: one class per concurrency model, one interface for all.

Importing this package registers the built-in runners.  A new runner is one module
with one class decorated with `register_runner`, and one import line here.
"""

from bench.outcome import WORKER_DIED
from bench.runners.apps import (
    AppRunner,
    GunicornSyncRunner,
    GunicornThreadsRunner,
    UvicornRunner,
    UvicornWorkersRunner,
)
from bench.runners.base import (
    RUNNERS,
    START_METHOD,
    START_METHODS,
    WARM_TIMEOUT_S,
    Runner,
    RunnerOption,
    default_runners,
    make_runner,
    register_runner,
    runner_options,
)
from bench.runners.cluster import DaskRunner
from bench.runners.eventloop import (
    HEARTBEAT_S,
    AsyncioRunner,
    HybridRunner,
    ToThreadRunner,
    UvloopRunner,
)
from bench.runners.pools import PoolRunner, ProcessRunner, ThreadRunner, started_process_pool
from bench.runners.sequential import SequentialRunner
from bench.runners.subinterpreters import InterpreterRunner
from bench.runners.workers import ProcessLoopsRunner, ProcessThreadsRunner

__all__ = [
    "HEARTBEAT_S", "RUNNERS", "START_METHOD", "START_METHODS", "WARM_TIMEOUT_S", "WORKER_DIED",
    "AppRunner", "AsyncioRunner", "DaskRunner", "GunicornSyncRunner",
    "GunicornThreadsRunner", "HybridRunner", "InterpreterRunner", "PoolRunner",
    "ProcessLoopsRunner", "ProcessRunner", "ProcessThreadsRunner", "Runner", "RunnerOption",
    "SequentialRunner", "ThreadRunner",
    "ToThreadRunner", "UvicornRunner", "UvicornWorkersRunner", "UvloopRunner", "default_runners",
    "make_runner", "register_runner", "runner_options", "started_process_pool",
]
