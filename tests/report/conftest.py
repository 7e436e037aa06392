"""Fixtures of the report tests: the results folders of :mod:`.runs` (shared with tests/submission)."""
from __future__ import annotations

from .runs import make_run, suite_run  # noqa: F401  (fixtures: pytest finds them in this namespace)
