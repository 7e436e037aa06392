"""Fixtures of the submission and compare tests: the results folders the report tests use too (one copy, in
tests/report/runs.py, the lowest place both folders reach)."""
from __future__ import annotations

from report.runs import make_run, suite_run  # noqa: F401  (fixtures: pytest finds them in this namespace)
