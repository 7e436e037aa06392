"""Read a results folder (results.json, else results.csv) or a submission into typed rows, and name its cells.

A cell is one (scenario, model, data set, device, split, coder, metric) combination: the unit that the
report tabulates and that ``compare`` matches between two runs.
"""
from __future__ import annotations

import csv
import io
import json
import zipfile
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


def parse_results_json(text: str, label: str) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """(environment, raw rows) of results.json text; ``label`` names the file in errors."""
    try:
        payload = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValueError(f"{label} is not valid JSON ({exc}); re-run the suite or delete it to use "
                         "results.csv") from None
    if not isinstance(payload, dict) or not isinstance(payload.get("rows"), list):
        raise ValueError(f"{label} has no 'rows' list; it was not written by harness.results")
    return payload.get("environment") or {}, payload["rows"]


def parse_results_csv(text: str) -> list[dict[str, Any]]:
    return list(csv.DictReader(io.StringIO(text)))


def typed_rows(raw_rows: list[Any], label: str) -> list[dict[str, Any]]:
    rows = []
    for index, raw in enumerate(raw_rows):
        if not isinstance(raw, dict):
            raise ValueError(f"{label}: row {index} is not an object")
        missing = [c for c in REQUIRED_COLUMNS if not raw.get(c)]
        if missing:
            raise ValueError(f"{label}: row {index} ({raw.get('test_id', 'no test_id')}) lacks "
                             f"{', '.join(missing)}")
        rows.append(normalise_row(raw))
    return rows


def load_results(results_dir: Path) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """(environment, rows) of a results folder, or of a submission zip (harness.submission); a clear error
    when it is neither."""
    results_dir = Path(results_dir)
    if results_dir.is_file() and zipfile.is_zipfile(results_dir):
        from harness.submission.archive import Submission

        return Submission.open(results_dir).results()
    if not results_dir.is_dir():
        raise FileNotFoundError(f"results folder {results_dir} does not exist; give the --results-dir of a run "
                                "or a submission .zip")
    json_path, csv_path = results_dir / "results.json", results_dir / "results.csv"
    if json_path.exists():
        environment, raw_rows = parse_results_json(json_path.read_text(encoding="utf-8"), str(json_path))
    elif csv_path.exists():
        environment, raw_rows = {}, parse_results_csv(csv_path.read_text(encoding="utf-8"))
    else:
        raise FileNotFoundError(f"{results_dir} holds neither results.json nor results.csv; "
                                "run the suite with --results-dir pointing there first")
    return environment, typed_rows(raw_rows, str(results_dir))


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
