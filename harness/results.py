"""Results rows: one dict per scenario/split/codec/QP cell, written as results.csv and results.json, and read back.

Column names follow seed 001 Table 2.1.2.3-1 (anc_size, rec_size, compress_ratio, metric_name, anc_perf,
rec_perf, enc_time, dec_time, ...) plus the configuration columns marked R (coder_name, scenario_name,
data_set_name, model_name, unique_tag); scenarios add their own columns.

Writing and reading live together so that the columns a run writes and the types a reader gives them cannot
drift apart, and so that everything that reads results (the report, the submission checker, ``compare``)
does so without loading scenarios, models or torch. A submission zip holds the same two files; its members
are read here too (into memory, never extracted), so that a results reader accepts a zip without depending on
the package that packs one.
"""
from __future__ import annotations

import csv
import io
import json
import math
import re
import zipfile
from pathlib import Path, PurePosixPath
from typing import Any, Iterable, Mapping

from harness.files import atomic_write_text

# the columns that name what was run (the cell, less its metric); scenarios and readers share this one tuple
IDENTITY_COLUMNS = ("scenario_name", "model_name", "data_set_name", "device", "split", "coder_name")
LEADING_COLUMNS = [
    "test_id", *IDENTITY_COLUMNS,
    "metric_name", "anc_perf", "rec_perf", "anc_size", "rec_size", "compress_ratio",
    "enc_time", "dec_time", "anc_eval_time", "rec_eval_time", "status",
]
TEXT_COLUMNS = {"test_id", *IDENTITY_COLUMNS, "metric_name", "status", "unique_tag"}
KEY_COLUMNS = (*IDENTITY_COLUMNS, "metric_name")  # a cell: what the report tabulates and compare matches
REQUIRED_COLUMNS = ("scenario_name", "coder_name")
# test_id of the rows of a scenario's checks over the whole run (Scenario.check_run): not cells of the matrix
RUN_CHECK_PREFIX = "run-check::"
# columns that measure the machine rather than the result (times, latencies, memory, throughput, and what is
# derived from them, such as bit-incremental crossover bandwidths): two honest runs differ in them, so
# ``compare`` lists them side by side and never gates them
MACHINE_COLUMN = re.compile(r"(_time|_s|_ms|_peak_bytes)(_per_frame)?$|_s@\d+mbps$|_ms_\d+$|^crossover_|^max_abs_diff$")


def is_machine_column(name: str) -> bool:
    return bool(MACHINE_COLUMN.search(name))


# the results inside a submission zip (harness.submission.archive names the other members)
ARCHIVE_RESULTS_CSV = "results/results.csv"
ARCHIVE_RESULTS_JSON = "results/results.json"
MAX_ARCHIVE_BYTES = 1 << 30  # a zip whose members inflate beyond this is refused before it is read


def _jsonable(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)  # JSON has no NaN/Inf; keep them visible rather than dropping them
    if isinstance(value, (list, tuple)):
        return [_jsonable(item) for item in value]
    if isinstance(value, dict):
        return {str(key): _jsonable(item) for key, item in value.items()}
    if hasattr(value, "item"):
        return _jsonable(value.item())
    return value


def csv_cell(value: Any) -> Any:
    """How a value is written into results.csv so that reading it back gives what results.json gives: booleans
    as ``true``/``false`` and lists or mappings as JSON text (Python's ``str`` of them would not parse back)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (list, dict)):
        return json.dumps(value, sort_keys=True)
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
    writer.writerows({k: csv_cell(v) for k, v in row.items()} for row in rows)
    atomic_write_text(results_dir / "results.csv", buffer.getvalue())
    payload = {"environment": environment or {}, "rows": rows}
    atomic_write_text(results_dir / "results.json", json.dumps(payload, indent=1, sort_keys=True) + "\n")


# --- reading ------------------------------------------------------------------------------------------------
BOOLEAN_TEXT = {"true": True, "false": False, "True": True, "False": False}  # "True": CSVs written before csv_cell


def _number(value: Any) -> Any:
    """A results value as the reader types it, whichever file it came from: CSV text and JSON's "nan"/"inf"
    strings back to numbers, ``true``/``false`` to booleans, JSON text of a list or mapping to that list or
    mapping (items typed the same way); anything else unchanged."""
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, (int, float)):
        return value
    if isinstance(value, list):
        return [_number(item) for item in value]
    if isinstance(value, dict):
        return {key: _number(item) for key, item in value.items()}
    if isinstance(value, str):
        text = value.strip()
        if text == "":
            return None
        if text in BOOLEAN_TEXT:
            return BOOLEAN_TEXT[text]
        if text[0] in "[{":
            try:
                return _number(json.loads(text))
            except json.JSONDecodeError:
                return value
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


def _safe_member(name: str) -> bool:
    path = PurePosixPath(name)
    return bool(name) and not path.is_absolute() and ".." not in path.parts and "\\" not in name


def read_archive(data: bytes, label: str) -> dict[str, bytes]:
    """The members of a submission zip by name, read into memory. What could hurt the reader is refused before
    any content is looked at: not a zip, absolute or climbing (``../``) names, a name twice, members that
    inflate beyond :data:`MAX_ARCHIVE_BYTES`."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile:
        raise ValueError(f"{label} is not a zip file; a submission is the .zip `python -m harness submit` "
                         "writes") from None
    infos = [i for i in archive.infolist() if not i.is_dir()]
    names = [i.filename for i in infos]
    unsafe = [n for n in names if not _safe_member(n)]
    if unsafe:
        raise ValueError(f"{label}: unsafe member name {unsafe[0]!r} (absolute or '..'); refused unread")
    if len(set(names)) != len(names):
        raise ValueError(f"{label}: a member name appears twice; refused unread")
    if sum(i.file_size for i in infos) > MAX_ARCHIVE_BYTES:
        raise ValueError(f"{label}: members inflate beyond {MAX_ARCHIVE_BYTES} bytes; refused unread")
    try:
        return {i.filename: archive.read(i) for i in infos}
    except (zipfile.BadZipFile, OSError, EOFError) as exc:  # CRC error, truncated member
        raise ValueError(f"{label}: corrupt zip member ({exc})") from None


def archive_results(files: Mapping[str, bytes], label: str) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """(environment, typed rows) of the results.json packed in a submission (results.csv when it is absent)."""
    if ARCHIVE_RESULTS_JSON in files:
        environment, raw = parse_results_json(files[ARCHIVE_RESULTS_JSON].decode("utf-8"),
                                              f"{label}:{ARCHIVE_RESULTS_JSON}")
    elif ARCHIVE_RESULTS_CSV in files:
        environment, raw = {}, parse_results_csv(files[ARCHIVE_RESULTS_CSV].decode("utf-8"))
    else:
        raise ValueError(f"{label} holds no {ARCHIVE_RESULTS_JSON} or {ARCHIVE_RESULTS_CSV}: not a submission")
    return environment, typed_rows(raw, label)


# --- cells ----------------------------------------------------------------------------------------------------
def cell_key(row: dict[str, Any]) -> tuple[str, ...]:
    return tuple(str(row.get(c, "")) for c in KEY_COLUMNS)


def cell_name(key: tuple[str, ...]) -> str:
    """Readable cell name, e.g. ``ssd/ssd_small/shapes/cpu/split=10/nncodec:qp=-26/calc_map``."""
    scenario, model, dataset, device, split, coder, metric = key
    parts = [scenario, model or "-", dataset or "-", device or "-"]
    if split:
        parts.append(f"split={split}")
    return "/".join(parts + [coder] + ([metric] if metric else []))


def _rows_by_cell(raw: list[dict[str, Any]]) -> dict[str, list[str]]:
    """cell name -> canonical JSON of its normalised rows (sorted), for comparing two encodings of a run."""
    out: dict[str, list[str]] = {}
    for row in raw:
        clean = {k: v for k, v in normalise_row(row).items() if v not in (None, "")}
        clean = {k: (str(v) if isinstance(v, float) else v) for k, v in clean.items()}  # nan == nan as text
        out.setdefault(cell_name(cell_key(normalise_row(row))), []).append(json.dumps(clean, sort_keys=True))
    return {k: sorted(v) for k, v in out.items()}


def disagreeing_cells(raw_json: list[dict[str, Any]], raw_csv: list[dict[str, Any]]) -> list[str]:
    """The cells whose rows differ between the results.json and the results.csv of one run (an edited or
    truncated file), by name; empty when the two encodings hold the same rows."""
    by_json, by_csv = _rows_by_cell(raw_json), _rows_by_cell(raw_csv)
    return sorted(name for name in set(by_json) | set(by_csv) if by_json.get(name) != by_csv.get(name))
