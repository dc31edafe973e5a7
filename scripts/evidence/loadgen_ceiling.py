"""How many requests per second does one load-generator process send on time?

The real-deployment runners (bench.runners.apps) load a deployment from generator
processes of their own (bench.loadgen).  A rate one generator cannot send on time would
be the generator's limit reported as the deployment's.  This probe loads the fastest
trivial server we have, one uvicorn process answering a task that does nothing (the sleep
workload at 0 ms: one `await asyncio.sleep(0)`), with one and then two generator
processes at rising constant rates, 2 s each after a 0.5 s warm-up, and prints per rate:
the share sent more than 5 ms late, the generators' lateness p99, their CPU per request and
in cores, the server's CPU in cores, and the ok requests per second it got back.

    python scripts/evidence/loadgen_ceiling.py [--rates 500,1000,...] [--out FILE.md]
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from bench.loadgen import GeneratorProcess
from bench.resources import tree_cpu_seconds
from bench.runners.apps import _plans
from bench.service import LATE_S
from bench.stats import percentile
from scripts.evidence import emit
from workloads.serve import Deployment, DeploymentProcess
from workloads.sleep import SleepWorkload

CONNECTIONS = 64
DURATION_S = 2.0
WARMUP_S = 0.5


def _load(live: DeploymentProcess, generators: list[GeneratorProcess], rate: float,
          duration_s: float) -> dict[str, float]:
    offsets = [i / rate for i in range(round(rate * duration_s))]
    server_before, wall = tree_cpu_seconds(live.pid), time.monotonic()
    start = time.monotonic() + 0.05
    for generator, plan in zip(generators, _plans(offsets, len(generators)), strict=True):
        generator.send({"url": f"{live.url}/task", "start": start, "requests": plan,
                        "timeout_s": 60})
    replies = [generator.receive(120) for generator in generators]
    wall = time.monotonic() - wall
    rows = [row for reply in replies for row in reply["results"]]
    late = [row[2] for row in rows]
    ok = [row for row in rows if not row[6]]
    span = max(row[1] + row[3] for row in ok) if ok else 0.0
    generator_cpu = sum(float(reply["cpu_s"]) for reply in replies)
    return {"late_share": sum(1 for value in late if value > LATE_S) / len(rows),
            "late_p99_ms": (percentile(sorted(late), 99) or 0.0) * 1000,
            "generator_cpu_ms": generator_cpu / len(rows) * 1000,
            "generator_cores": generator_cpu / wall,
            "server_cores": (tree_cpu_seconds(live.pid) - server_before) / wall,
            "ok_per_s": len(ok) / span if span else 0.0, "failed": len(rows) - len(ok)}


def measure(rates: list[float]) -> str:
    lines = ["# One load-generator process against the fastest trivial server", "",
             f"uvicorn, one process, a task that does nothing; {CONNECTIONS} connections; "
             f"constant arrivals, {DURATION_S:g} s per rate after {WARMUP_S:g} s of warm-up.",
             "", "| generators | offered (req/s) | sent > 5 ms late | lateness p99 | "
             "generator CPU per request | generator cores | server cores | ok back (req/s) "
             "| failed |", "|---|---|---|---|---|---|---|---|---|"]
    workload = SleepWorkload(seconds=0.0)
    with DeploymentProcess(Deployment("uvicorn"), workload, CONNECTIONS) as live:
        for count in (1, 2):
            generators = [GeneratorProcess(CONNECTIONS // count).__enter__()
                          for _ in range(count)]
            try:
                for rate in rates:
                    _load(live, generators, rate, WARMUP_S)
                    found = _load(live, generators, rate, DURATION_S)
                    lines.append(
                        f"| {count} | {rate:g} | {found['late_share']:.1%} | "
                        f"{found['late_p99_ms']:.2f} ms | {found['generator_cpu_ms']:.3f} ms | "
                        f"{found['generator_cores']:.2f} | {found['server_cores']:.2f} | "
                        f"{found['ok_per_s']:.0f} | {found['failed']:.0f} |")
            finally:
                for generator in generators:
                    generator.stop()
    return "\n".join(lines) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rates", default="500,1000,1500,2000,3000,4000")
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    return emit(measure([float(rate) for rate in args.rates.split(",")]), args.out)


if __name__ == "__main__":
    raise SystemExit(main())
