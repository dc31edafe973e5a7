"""The report: from pytest-benchmark JSON to tables, charts, REPORT.md and the docs' blocks.

Data flows one way: `load` reads runs, `table` makes the scenario table (with `stats`'
intervals and `marks`' flags), and one module per section turns it into Markdown
(`decision`, `summary`, `provenance`, `interpreters`, `claims`, `service`, `cores`),
`charts` into figures, `page` into REPORT.md, `compare` into a comparison of two runs and
`docs` into the generated blocks of README.md and docs/.  `keys` says what identifies a
scenario and a model, `formats` how a number is written.  `scripts/report.py` and
`scripts/docs.py` are thin command lines over it; nothing here is imported while measuring.
"""

from bench.report.compare import write_compare
from bench.report.load import ReportError, Run, load_run
from bench.report.page import write_report
from bench.report.table import scenario_table

__all__ = ["ReportError", "Run", "load_run", "scenario_table", "write_compare", "write_report"]
