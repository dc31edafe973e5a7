"""README.md and docs/: every measured figure generated from the committed JSON, every
other figure a design constant checked against the code, every link alive.

`pytest tests -k docs` runs these.  A figure typed by hand into a generated block makes
`test_docs_blocks_are_what_their_data_makes` fail; one typed anywhere else makes
`test_docs_carry_no_figure_outside_generated_blocks` fail.
"""

from __future__ import annotations

import math
import re
from pathlib import Path

import pytest

from bench import ceilings, precision, service, stats, watchdog
from bench.report import docs, marks, rerun
from bench.runners import cluster

REPO = Path(__file__).resolve().parents[1]
PAGES = [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]
README_LINES = 200
DECISION_BY = 60  # README's decision block ends within this many lines

UNIT = (r"(?:ms|µs|us|s|x|%|MB|MiB|KiB|GiB|kB|KB|req/s|requests per second|cores?|"
        r"minutes?|min|seconds?|hours?)")
FIGURE = re.compile(r"(?<![\w.±-])±?\d[\d,]*(?:\.\d+)?(?:-\d[\d,]*(?:\.\d+)?)?\s?" + UNIT
                    + r"(?![\w/])")
COMMIT = re.compile(r"\b[0-9a-f]{7,40}\b")

# The figures the pages may name outside a generated block: design constants, each checked
# here against the code that defines it (never a measured figure).
CONSTANTS: dict[str, float] = {
    "±3 %": precision.DEFAULT_TARGET * 100,  # the precision target
    "95 %": stats.CONFIDENCE * 100,  # the confidence of every interval
    "7 s": precision.DEFAULT_MAX_SECONDS,  # the cap on a scenario's rounds
    "10 s": cluster.WORKERLESS_S,  # Dask's wait for a worker
    "30 minutes": rerun.SESSION_GAP_S / 60,  # runs further apart are of different sessions
    "10 %": marks.NOISE_LIMIT * 100,  # ⚠ noise
    "0.25 cores": marks.NEIGHBOUR_LIMIT,  # ⚡ neighbours
    "100 %": marks.OVER_IDEAL * 100,  # ⚑ efficiency
    "5 ms": service.LATE_S * 1000,  # a request handed over late
    "1 %": service.GENERATOR_LATE * 100,  # ⚠ generator late
    "99 %": service.KEPT * 100,  # a rate kept
    "90 %": ceilings.BOUNDED * 100,  # a saturation at C's ceiling
    "80 %": ceilings.NEAR * 100,  # a saturation that ran into a ceiling
    "±5 %": stats.BAND * 100,  # --compare's equivalence band
    "100 ms": rerun.LONG_S * 1000,  # rows the calibration judges
    "50 ms": 50.0,  # `make service`'s SLO, checked against the Makefile below
    "83 %": 83.0,  # exactly-right intervals' coverage, computed below
    "75 %": 75.0,  # what the range of three values reaches, computed below
    "60 s": watchdog.STALL_FLOOR_S,  # the least bound on a round
    "1 ms": watchdog.PER_TASK_S * 1000,  # the harness's cost per task in that bound
}


def _outside_blocks(text: str) -> str:
    """The page less its generated blocks, code fences and inline code."""
    text = docs.BLOCK.sub("", text)
    text = re.sub(r"```.*?```", "", text, flags=re.DOTALL)
    return re.sub(r"`[^`\n]*`", "", text)


def figures_outside_blocks(text: str) -> list[tuple[int, str]]:
    """(line, figure) for every quantity with a unit, and every commit id, outside the
    generated blocks (line numbers of the text without them)."""
    found = []
    for number, line in enumerate(_outside_blocks(text).splitlines(), 1):
        line = re.sub(r"\]\([^)]*\)", "]", line)  # link targets are paths, not figures
        found += [(number, m.group(0)) for m in FIGURE.finditer(line)]
        found += [(number, m.group(0)) for m in COMMIT.finditer(line)
                  if re.search(r"\d", m.group(0)) and re.search(r"[a-f]", m.group(0))]
    return found


def test_docs_readme_is_short_and_leads_with_the_decision() -> None:
    lines = (REPO / "README.md").read_text().splitlines()
    assert len(lines) <= README_LINES
    start = lines.index("<!-- generated: decision -->")
    end = lines.index("<!-- end: decision -->")
    assert end < DECISION_BY and end - start > 10
    block = "\n".join(lines[start:end])
    for workload in ("sleep", "http", "cpu"):
        assert f"**{workload}**" in block


def test_docs_readme_shows_the_chart_of_the_run_its_decision_quotes() -> None:
    """The picture beside README's decision is the reference's main chart, drawn from the
    same run as the tables (the run is in the chart's metadata), in both its files."""
    from PIL import Image

    text = (REPO / "README.md").read_text()
    chart = REPO / "results" / "reference" / docs.DECISION_CHART
    assert f"](results/reference/{docs.DECISION_CHART})" in text.split("<!-- end: decision")[0]
    with Image.open(chart) as image:
        assert image.text["Description"] == docs.chart_source("")
    svg = chart.with_suffix(".svg").read_text()
    assert f"<dc:description>{docs.chart_source('')}</dc:description>" in svg


@pytest.mark.parametrize("page", PAGES, ids=lambda path: path.name)
def test_docs_blocks_are_what_their_data_makes(page: Path) -> None:
    assert docs.stale(page) == [], "run: python scripts/docs.py"


def test_docs_a_figure_edited_by_hand_in_a_block_is_caught() -> None:
    text = (REPO / "README.md").read_text()
    block = docs.BLOCK.search(text)
    assert block is not None
    body = block["body"]
    edited_body = re.sub(r"\d+\.\d+x", "9.99x", body, count=1)
    assert edited_body != body
    edited = text.replace(body, edited_body)
    assert docs.render(edited) != edited  # the data undoes the edit


@pytest.mark.parametrize("page", PAGES, ids=lambda path: path.name)
def test_docs_carry_no_figure_outside_generated_blocks(page: Path) -> None:
    found = [(line, figure) for line, figure in figures_outside_blocks(page.read_text())
             if figure.replace("\u00a0", " ") not in CONSTANTS]
    assert found == [], f"{page.name}: figures typed by hand (line, figure): {found}"


def test_docs_a_figure_typed_outside_a_block_is_caught() -> None:
    assert figures_outside_blocks("asyncio is 3.3x faster, at 42 ms.") == [(1, "3.3x"),
                                                                           (1, "42 ms")]
    assert figures_outside_blocks("commit e9657f5 says") == [(1, "e9657f5")]
    assert figures_outside_blocks("`42 ms` in code\n```\n5 s\n```\n") == []


def test_docs_constants_match_the_code() -> None:
    for phrase, value in CONSTANTS.items():
        number = float(re.sub(r"[^\d.]", "", phrase))
        assert math.isclose(number, value), phrase
    makefile = (REPO / "Makefile").read_text()
    assert "--slo-ms 50" in makefile
    coverage = math.erf(stats.Z95 / 2)  # P(|Z| < 1.96 / sqrt(2)): two runs' errors add
    assert round(coverage * 100) == CONSTANTS["83 %"]
    assert CONSTANTS["10 s"] == cluster.WORKERLESS_S
    assert round(stats.order_interval([1.0, 2.0, 3.0]).level * 100) == CONSTANTS["75 %"]


@pytest.mark.parametrize("page", PAGES, ids=lambda path: path.name)
def test_docs_links_lead_somewhere(page: Path) -> None:
    for target in re.findall(r"\]\(([^)#]+)(?:#[^)]*)?\)", page.read_text()):
        if "://" in target:
            continue
        assert (page.parent / target).exists(), f"{page.name}: {target}"


def test_docs_claim_12_names_each_figure_with_its_model() -> None:
    """Claim 12's evidence, from the committed interpreters run: every start-up figure is
    named with its model and agrees with the records' own medians (a reversed sentence was
    published once)."""
    table = docs._table("interpreters")
    text = next(line for line in docs.claims_block().splitlines() if line.startswith("| 12 "))
    cpu = table[(table["workload"] == "cpu") & (table["claim"] == "")]
    for interpreter, rows in cpu.groupby("interpreter", sort=False):
        sub = rows[rows["runner"] == "interpreters"]
        proc = rows[rows["runner"] == "processes"]
        if sub.empty or proc.empty:
            continue
        sub_s = float(sub.sort_values("concurrency").iloc[-1]["setup_s"])
        proc_s = float(proc.sort_values("concurrency").iloc[-1]["setup_s"])
        from bench.claims.kit import ms

        assert f"(processes {ms(proc_s)}, interpreters {ms(sub_s)}" in text, interpreter
        said = text.split(f"{interpreter}: processes' / interpreters' pool start-up")[1]
        said = said.split(";")[0]
        if "take less start" in said:
            assert ("interpreters take less start" in said) == (sub_s < proc_s), interpreter
