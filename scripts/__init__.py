"""What is shown: pytest-benchmark JSON turned into tables, charts and REPORT.md."""
