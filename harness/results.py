"""Results rows: one dict per scenario/split/codec/QP cell, written as results.csv and results.json.

Column names follow seed 001 Table 2.1.2.3-1 (anc_size, rec_size, compress_ratio, metric_name, anc_perf,
rec_perf, enc_time, dec_time, ...) plus the configuration columns marked R (coder_name, scenario_name,
data_set_name, model_name, unique_tag); scenarios add their own columns.
"""
from __future__ import annotations

import csv
import io
import json
import math
from pathlib import Path
from typing import Any, Iterable

from harness.files import atomic_write_text

LEADING_COLUMNS = [
    "test_id", "scenario_name", "model_name", "data_set_name", "device", "split", "coder_name",
    "metric_name", "anc_perf", "rec_perf", "anc_size", "rec_size", "compress_ratio",
    "enc_time", "dec_time", "anc_eval_time", "rec_eval_time", "status",
]


def _jsonable(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)  # JSON has no NaN/Inf; keep them visible rather than dropping them
    if hasattr(value, "item"):
        return _jsonable(value.item())
    return value


def sort_rows(rows: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """Deterministic order whatever the number of xdist workers."""
    return sorted(rows, key=lambda r: (str(r.get("test_id", "")), json.dumps(r, sort_keys=True, default=str)))


def write_results(rows: Iterable[dict[str, Any]], results_dir: Path, environment: dict[str, Any] | None = None) -> None:
    rows = [{k: _jsonable(v) for k, v in row.items()} for row in sort_rows(rows)]
    columns = list(LEADING_COLUMNS)
    for row in rows:
        columns += [k for k in row if k not in columns]
    columns = [c for c in columns if any(c in row for row in rows)]
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=columns, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    atomic_write_text(results_dir / "results.csv", buffer.getvalue())
    payload = {"environment": environment or {}, "rows": rows}
    atomic_write_text(results_dir / "results.json", json.dumps(payload, indent=1, sort_keys=True) + "\n")

