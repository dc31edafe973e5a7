"""C-extension work that releases the GIL: SHA-256 of a large in-memory buffer.

hashlib drops the GIL while it hashes more than a couple of kilobytes, so threads can
hash on every core at once.  The buffer is built once per process (outside the
timing) and never crosses a pipe: only its size travels to pool workers.
"""

from __future__ import annotations

import functools
import hashlib
from dataclasses import dataclass
from typing import Any, ClassVar

from workloads.base import CpuBoundWorkload, WrongResult, knob, register_workload

MAX_SIZE = 1024 * 1024 * 1024


@functools.lru_cache(maxsize=4)
def buffer(size: int) -> bytes:
    return bytes(range(256)) * (size // 256) + bytes(size % 256)


def sha256_hex(size: int) -> str:
    return hashlib.sha256(buffer(size)).hexdigest()


@functools.cache
def expected_digest(size: int) -> str:
    return sha256_hex(size)


@register_workload
@dataclass(frozen=True)
class HashWorkload(CpuBoundWorkload):
    name: ClassVar[str] = "hash"
    order: ClassVar[int] = 40
    default_tasks: ClassVar[int] = 32
    size: int = knob(16 * 1024 * 1024, "bytes hashed per task", low=1, high=MAX_SIZE)

    def call(self) -> str:
        return sha256_hex(self.size)

    async def acall(self, client: Any) -> str:
        # On the loop the hashing still blocks it, GIL released or not.
        return sha256_hex(self.size)

    def check(self, result: object) -> None:
        if result != expected_digest(self.size):
            raise WrongResult(f"digest was {result!r}")
