"""Any HTTP service: GET exactly the URL given, with the http workload's clients.

No knobs are appended to the URL and nothing is assumed about the body: a task succeeds
when its status is the expected one (by default any 2xx), and fails with the same kinds
as the http workload (status, timeout, reset, connection).  How long the service takes is
not known, so there is no ideal and no efficiency.

A benchmark is a load test: the suite refuses a URL that is not on this machine unless
`--allow-remote` is given.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from typing import Any, ClassVar
from urllib.parse import urlsplit

from workloads.base import TaskFailed, Workload, WrongResult, knob, register_workload
from workloads.clients import HttpClientMixin

LOCAL_NAMES = ("localhost",)


def is_local(host: str) -> bool:
    """A loopback address or `localhost` (other names are not resolved: that could reach
    out, and what they resolve to can change)."""
    if host.lower() in LOCAL_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@register_workload
@dataclass(frozen=True)
class GetWorkload(HttpClientMixin, Workload):
    name: ClassVar[str] = "get"
    order: ClassVar[int] = 60
    default_tasks: ClassVar[int] = 64
    url: str = knob("", "the URL to GET, exactly as given", option="--get-url")
    expect_status: str = knob("2xx", "the status every task must get: a code, or 2xx for any "
                              "success", option="--get-expect-status",
                              pattern=r"[1-5](xx|[0-9][0-9])")
    timeout_s: float = knob(10.0, "per-request timeout in seconds, both clients", low=0.001,
                            high=3600, option="--get-timeout-s")
    client: str = ""  # the HTTP library (workloads.clients); "" for each twin's default

    @classmethod
    def validate(cls, values: dict[str, Any], allow_remote: bool) -> None:
        url = str(values.get("url") or "")
        if not url:
            raise ValueError("--workload get needs --get-url URL")
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"--get-url: expected an http:// or https:// URL, got {url!r}")
        if not is_local(parts.hostname) and not allow_remote:
            raise ValueError(f"--get-url: {parts.hostname} is not on this machine; a benchmark "
                             "is a load test, so give --allow-remote to send it there")

    @classmethod
    def connections(cls, concurrency: int) -> int:
        return concurrency

    def call(self) -> int:
        return self._result(*self.get_sync(self.url))

    async def acall(self, client: Any) -> int:
        return self._result(*await self.get_async(client, self.url))

    def _result(self, status: int, body: bytes) -> int:
        code = str(status)
        wanted = self.expect_status
        if not (code == wanted or (wanted.endswith("xx") and code[0] == wanted[0])):
            raise TaskFailed("status", f"HTTP {status}, expected {wanted}")
        return len(body)

    def check(self, result: object) -> None:
        if not isinstance(result, int):
            raise WrongResult(f"expected a body length, got {result!r}")
