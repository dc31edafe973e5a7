"""Where claims register: `@register_claim(...)` on a module's check, as runners and
workloads register with theirs.

A claim module owns its sizes: a frozen dataclass of what its scenarios measure, the full
sizes the claims run uses and `QUICK` ones (the same shape at a fraction of the cost, for
a wiring check).  Its number is the one in its key (`c5_cpu` is claim 5); importing
`bench.claims` imports every module, and the registry lists them by number.

Nothing here imports pandas, SciPy or matplotlib: the claims suite imports the claim
modules on the interpreter under test.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from bench.runners import RUNNERS
from bench.scenario import ScenarioSpec, side_of
from workloads import WORKLOADS
from workloads.clients import DEFAULT_FOR
from workloads.server import DEFAULT_SERVER

if TYPE_CHECKING:
    Table = Any  # a pandas DataFrame of scenario rows (bench.report.table.scenario_table)
    Axes = Any  # a matplotlib Axes

CLAIMS_RUN, MATRIX_RUN, SERVICE_RUN = "claims", "matrix", "service"  # the runs that decide
WARMUP_ROUNDS = 1
KEY_FORM = re.compile(r"c([1-9][0-9]*)_[a-z0-9_]+")


@dataclass(frozen=True)
class NoSizes:
    """The sizes of a claim that has no scenarios of its own."""


def no_scenarios(sizes: Any) -> list[ScenarioSpec]:
    return []


@dataclass(frozen=True)
class Claim:
    """One claim: what it says, the scenarios that test it at its sizes, its check and its
    chart panel."""

    key: str
    statement: str  # the article's claim, in our words
    check: Callable[[Table], Verdict]
    panel: Callable[[Axes, Table], None]
    scenarios: Callable[[Any], list[ScenarioSpec]] = no_scenarios
    # The runs that decide it: CLAIMS_RUN (the claims suite, from its own scenarios),
    # MATRIX_RUN (the default matrix of an interpreters run, `make interpreters`),
    # SERVICE_RUN (a service-mode run, `make service`, from whatever rows it has).
    runs: frozenset[str] = frozenset({CLAIMS_RUN})
    sizes: Any = NoSizes()  # the claims run's
    quick: Any = NoSizes()  # `--quick`'s: the same shape, seconds to run

    @property
    def number(self) -> int:
        match = KEY_FORM.fullmatch(self.key)
        assert match is not None  # register_claim refuses any other key
        return int(match.group(1))

    @property
    def own_rows(self) -> bool:
        """Whether it reads only the rows of its own scenarios (claims suite only)."""
        return self.runs == {CLAIMS_RUN}

    def sized(self, quick: bool) -> Any:
        return self.quick if quick else self.sizes


@dataclass(frozen=True)
class Verdict:
    key: str  # the claim's
    verdict: str
    evidence: str  # short: the numbers that decided it, with the thresholds they met
    details: str = ""  # everything else worth knowing, shown below the claims table
    chart: str = "claims.png"

    @property
    def claim(self) -> Claim:
        return REGISTERED[self.key]


REGISTERED: dict[str, Claim] = {}


def register_claim(key: str, statement: str, panel: Callable[[Axes, Table], None], *,
                   scenarios: Callable[[Any], list[ScenarioSpec]] = no_scenarios,
                   sizes: Any = None, quick: Any = None,
                   runs: frozenset[str] = frozenset({CLAIMS_RUN}),
                   ) -> Callable[[Callable[[Table], Verdict]], Callable[[Table], Verdict]]:
    """Register the decorated check as claim `key` (c<number>_<name>); `sizes` and
    `quick` go together: a claim with scenarios gives both, of one dataclass."""
    if KEY_FORM.fullmatch(key) is None:
        raise ValueError(f"claim key {key!r} is not c<number>_<name>")
    if (sizes is None) != (quick is None) or type(sizes) is not type(quick):
        raise ValueError(f"claim {key}: give its sizes and its quick sizes, of one type")

    def register(check: Callable[[Table], Verdict]) -> Callable[[Table], Verdict]:
        claim = Claim(key, statement, check, panel, scenarios, runs,
                      NoSizes() if sizes is None else sizes,
                      NoSizes() if quick is None else quick)
        taken = [c.key for c in REGISTERED.values() if c.number == claim.number]
        if key in REGISTERED or taken:
            raise ValueError(f"claim {key}: its number is taken by {(taken or [key])[0]}")
        REGISTERED[key] = claim
        return check

    return register


def spec(claim: str, workload: str, runner: str, tasks: int, concurrency: int,
         start_method: str | None = None, cold: bool = False, client: str = "",
         server: str = "", **overrides: Any) -> ScenarioSpec:
    """A claim's scenario; the runner decides its own concurrency levels (sequential: 1).
    A workload that makes requests uses its twin's default client and the default server
    unless `client` and `server` name others.  Its rounds and passes are the run's round
    plan's (the claims suite expands each scenario into passes)."""
    concurrency = RUNNERS[runner].levels((concurrency,))[0]
    options = (("start_method", start_method),) if start_method else ()
    takes_client = getattr(WORKLOADS[workload], "takes_http_client", False)
    if takes_client and not client:
        client = DEFAULT_FOR[side_of(runner)]
    if WORKLOADS[workload].needs_server and not server:
        server = DEFAULT_SERVER
    return ScenarioSpec(workload, runner, tasks, concurrency, 0, WARMUP_ROUNDS, options,
                        tuple(sorted(overrides.items())), cold, claim, client=client,
                        server=server)
