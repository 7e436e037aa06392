"""Read a results folder (results.json, else results.csv) or a submission into typed rows, and name its cells.

Parsing and typing of the files themselves is harness.results's (beside the writer); this module finds them.

A cell is one (scenario, model, data set, device, split, coder, metric) combination: the unit that the
report tabulates and that ``compare`` matches between two runs.
"""
from __future__ import annotations

import zipfile
from pathlib import Path
from typing import Any

from harness.results import (KEY_COLUMNS, _number, archive_results, parse_results_csv, parse_results_json,
                             read_archive, typed_rows)


def load_results(results_dir: Path) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """(environment, rows) of a results folder, or of a submission zip (read by harness.results, so the report
    does not depend on the package that packs submissions); a clear error when it is neither."""
    results_dir = Path(results_dir)
    if results_dir.is_file() and zipfile.is_zipfile(results_dir):
        return archive_results(read_archive(results_dir.read_bytes(), str(results_dir)), str(results_dir))
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
