"""A one-off script as its user writes it: a few GET requests to one URL, then exit.

Claim 9 runs this file as a fresh interpreter per round (`python workloads/oneoff.py
MODEL CALLS URL`), so what it times is what the user waits for: interpreter start-up,
the imports the model needs, its set-up, the calls and the teardown.  It imports only
what its model needs, as such a script would; every call opens its own connection under
every model (a handful of calls has no keep-alive to gain).  Exit status 0 means every
call answered 2xx and its body was read.
"""

from __future__ import annotations

import sys

TIMEOUT_S = 10.0
MODELS = ("sequential", "threads", "asyncio")


def sequential(url: str, calls: int) -> None:
    import requests

    for _ in range(calls):
        response = requests.get(url, timeout=TIMEOUT_S)
        response.raise_for_status()


def _get(url: str) -> bytes:
    import requests

    response = requests.get(url, timeout=TIMEOUT_S)
    response.raise_for_status()
    return response.content


def threads(url: str, calls: int) -> None:
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=calls) as pool:
        list(pool.map(_get, [url] * calls))


def asyncio_(url: str, calls: int) -> None:
    import asyncio

    import aiohttp

    async def main() -> None:
        timeout = aiohttp.ClientTimeout(total=TIMEOUT_S)
        async with aiohttp.ClientSession(timeout=timeout) as session:
            async def one() -> None:
                async with session.get(url) as response:
                    response.raise_for_status()
                    await response.read()

            await asyncio.gather(*(one() for _ in range(calls)))

    asyncio.run(main())


def main(argv: list[str]) -> int:
    if len(argv) != 3 or argv[0] not in MODELS or not argv[1].isdigit() or int(argv[1]) < 1:
        print(f"usage: oneoff.py {{{','.join(MODELS)}}} CALLS URL", file=sys.stderr)
        return 2
    model, calls, url = argv[0], int(argv[1]), argv[2]
    {"sequential": sequential, "threads": threads, "asyncio": asyncio_}[model](url, calls)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
