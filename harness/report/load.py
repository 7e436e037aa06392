"""Read a results folder (results.json, else results.csv) into typed rows, and name its cells.

A cell is one (scenario, model, data set, device, split, coder, metric) combination: the unit that the
report tabulates and that ``compare`` matches between two runs.
"""
from __future__ import annotations

import csv
import json
import math
from pathlib import Path
from typing import Any

TEXT_COLUMNS = {"test_id", "scenario_name", "model_name", "data_set_name", "device", "split", "coder_name",
                "metric_name", "status", "unique_tag"}
KEY_COLUMNS = ("scenario_name", "model_name", "data_set_name", "device", "split", "coder_name", "metric_name")
REQUIRED_COLUMNS = ("scenario_name", "coder_name")


def _number(value: Any) -> Any:
    """CSV text and JSON's "nan"/"inf" strings back to floats; anything non-numeric unchanged."""
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, (int, float)):
        return value
    if isinstance(value, str):
        text = value.strip()
        if text == "":
            return None
        try:
            return int(text)
        except ValueError:
            pass
        try:
            return float(text)
        except ValueError:
            return value
    return value


def normalise_row(row: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in row.items():
        if key in TEXT_COLUMNS:
            out[key] = "" if value is None else str(value)
        else:
            out[key] = _number(value)
    for key in KEY_COLUMNS:
        out.setdefault(key, "")
    return out


def load_results(results_dir: Path) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """(environment, rows) of a results folder; a clear error when it is not one."""
    results_dir = Path(results_dir)
    if not results_dir.is_dir():
        raise FileNotFoundError(f"results folder {results_dir} does not exist; give the --results-dir of a run")
    json_path, csv_path = results_dir / "results.json", results_dir / "results.csv"
    if json_path.exists():
        try:
            payload = json.loads(json_path.read_text(encoding="utf-8"))
        except json.JSONDecodeError as exc:
            raise ValueError(f"{json_path} is not valid JSON ({exc}); re-run the suite or delete it to use "
                             "results.csv") from None
        if not isinstance(payload, dict) or not isinstance(payload.get("rows"), list):
            raise ValueError(f"{json_path} has no 'rows' list; it was not written by harness.results")
        environment, raw_rows = payload.get("environment") or {}, payload["rows"]
    elif csv_path.exists():
        with open(csv_path, newline="", encoding="utf-8") as handle:
            raw_rows = list(csv.DictReader(handle))
        environment = {}
    else:
        raise FileNotFoundError(f"{results_dir} holds neither results.json nor results.csv; "
                                "run the suite with --results-dir pointing there first")
    rows = []
    for index, raw in enumerate(raw_rows):
        if not isinstance(raw, dict):
            raise ValueError(f"{results_dir}: row {index} is not an object")
        missing = [c for c in REQUIRED_COLUMNS if not raw.get(c)]
        if missing:
            raise ValueError(f"{results_dir}: row {index} ({raw.get('test_id', 'no test_id')}) lacks "
                             f"{', '.join(missing)}")
        rows.append(normalise_row(raw))
    return environment, rows


def cell_key(row: dict[str, Any]) -> tuple[str, ...]:
    return tuple(str(row.get(c, "")) for c in KEY_COLUMNS)


def cell_name(key: tuple[str, ...]) -> str:
    """Readable cell name, e.g. ``ssd/ssd_small/shapes/cpu/split=10/nncodec:qp=-26/calc_map``."""
    scenario, model, dataset, device, split, coder, metric = key
    parts = [scenario, model or "-", dataset or "-", device or "-"]
    if split:
        parts.append(f"split={split}")
    return "/".join(parts + [coder] + ([metric] if metric else []))


def as_float(value: Any) -> float | None:
    """A numeric cell value as float, or None when absent/non-numeric."""
    value = _number(value)
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value)


def is_nan(value: float | None) -> bool:
    return value is not None and math.isnan(value)
