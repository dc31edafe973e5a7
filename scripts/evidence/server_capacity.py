"""How many requests per second the local test server can answer on this machine.

Starts the server as the benchmarks do, then drives it from separate load processes
(aiohttp clients, keep-alive) with no server delay for a fixed time, and reports
requests/s with the server's own CPU use.  A server near 100 % of one core is at
capacity; the benchmark scenarios must stay well below that figure for the server
not to be what they measure.

    python scripts/evidence/server_capacity.py [--seconds 5] [--clients 1,2] [--size 1024]
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import sys
import time

import aiohttp
import psutil

from workloads.server import ServerProcess

IN_FLIGHT_PER_CLIENT = 64


async def _hammer(url: str, seconds: float) -> int:
    done = 0
    deadline = time.perf_counter() + seconds
    connector = aiohttp.TCPConnector(limit=IN_FLIGHT_PER_CLIENT)
    async with aiohttp.ClientSession(connector=connector) as session:

        async def worker() -> None:
            nonlocal done
            while time.perf_counter() < deadline:
                async with session.get(url) as response:
                    await response.read()
                    done += response.status == 200

        await asyncio.gather(*(worker() for _ in range(IN_FLIGHT_PER_CLIENT)))
    return done


def load_process(url: str, seconds: float) -> int:
    return asyncio.run(_hammer(url, seconds))


def measure(clients: int, seconds: float, size: int) -> tuple[float, float]:
    """(requests per second, server CPU as a fraction of one core)."""
    with ServerProcess() as server:
        url = f"{server.url}?size={size}"
        process = psutil.Process(server.pid)
        with multiprocessing.get_context("spawn").Pool(clients) as pool:
            pool.apply(load_process, (url, 0.5))  # connect and warm up once
            cpu_before = sum(process.cpu_times()[:2])
            start = time.perf_counter()
            total = sum(pool.starmap(load_process, [(url, seconds)] * clients))
            elapsed = time.perf_counter() - start
            server_cpu = sum(process.cpu_times()[:2]) - cpu_before
    return total / elapsed, server_cpu / elapsed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--clients", default="1,2", help="comma list of load process counts")
    parser.add_argument("--size", type=int, default=1024, help="response body bytes")
    args = parser.parse_args(argv)
    try:
        client_counts = [int(part) for part in args.clients.split(",")]
    except ValueError:
        parser.error(f"--clients: expected a comma list of integers, got {args.clients!r}")
    if args.seconds <= 0 or args.size < 0 or min(client_counts) < 1:
        parser.error("--seconds must be > 0, --size >= 0 and every client count >= 1")
    print(f"{'load processes':>14}  {'requests/s':>10}  {'server CPU (cores)':>18}")
    for clients in client_counts:
        rate, busy = measure(clients, args.seconds, args.size)
        print(f"{clients:>14}  {rate:>10.0f}  {busy:>18.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
