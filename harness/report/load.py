"""Read a results folder (results.json, else results.csv) or a submission into typed rows, and name its cells.

A folder that holds both files must hold the same rows in both: a reader of one would otherwise trust an edited
other (``compare``, ``report`` and ``submit`` all read through here).

Parsing and typing of the files themselves is harness.results's (beside the writer); this module finds them.

A cell is one (scenario, model, data set, device, split, coder, metric) combination: the unit that the
report tabulates and that ``compare`` matches between two runs.
"""
from __future__ import annotations

import zipfile
from pathlib import Path
from typing import Any

from harness.results import (_number, archive_results, cell_key, cell_name, disagreeing_cells, parse_results_csv,
                             parse_results_json, read_archive, typed_rows)

__all__ = ["as_float", "cell_key", "cell_name", "load_results"]


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
        if csv_path.exists():
            differing = disagreeing_cells(raw_rows, parse_results_csv(csv_path.read_text(encoding="utf-8")))
            if differing:
                shown = ", ".join(differing[:5]) + (f", ... ({len(differing)} in all)" if len(differing) > 5 else "")
                raise ValueError(f"{results_dir}: results.csv and results.json disagree on {len(differing)} cell(s): "
                                 f"{shown}; one of them was edited or cut short: restore both from the run")
    elif csv_path.exists():
        environment, raw_rows = {}, parse_results_csv(csv_path.read_text(encoding="utf-8"))
    else:
        raise FileNotFoundError(f"{results_dir} holds neither results.json nor results.csv; "
                                "run the suite with --results-dir pointing there first")
    return environment, typed_rows(raw_rows, str(results_dir))


def as_float(value: Any) -> float | None:
    """A numeric cell value as float, or None when absent/non-numeric."""
    value = _number(value)
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value)
