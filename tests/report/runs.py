"""Hand-made results folders for the report, submission and compare tests (tests/report and tests/submission:
their conftest files import the fixtures from here, so both folders share one copy).

The detection curves are built so that Bjontegaard deltas have known answers: the ``qlayer`` family
needs exactly 0.8x the bytes of ``nncodec`` for the same mAP (BD-rate -20 %), and split 30 needs exactly
0.5x the bytes of split 10 (BD-rate -50 %).
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, Callable

import pytest

from harness.results import write_results

NNC_RATES = [1000.0, 2000.0, 4000.0, 8000.0]
NNC_MAPS = [60.0, 75.0, 85.0, 90.0]
NNC_QPS = [-10, -18, -26, -38]


def detection_rows() -> list[dict[str, Any]]:
    rows = []
    for split, scale, anc_size in (("10", 1.0, 40000), ("30", 0.5, 20000)):
        base = {"scenario_name": "ssd", "model_name": "ssd_resnet", "data_set_name": "shapes50", "device": "cpu",
                "split": split, "metric_name": "calc_map", "anc_perf": 92.0, "anc_size": anc_size,
                "enc_time": 0.01, "dec_time": 0.01, "anc_eval_time": 1.0}
        cells = [("raw", anc_size, 92.0), ("fp16", anc_size / 2, 92.0)]
        cells += [(f"nncodec:qp={qp}", r * scale, m) for qp, r, m in zip(NNC_QPS, NNC_RATES, NNC_MAPS)]
        cells += [(f"qlayer:bits={b},lossless=zlib", r * scale * 0.8, m) for b, r, m in zip((4, 6, 8, 10), NNC_RATES, NNC_MAPS)]
        for i, (coder, size, mAP) in enumerate(cells):
            rows.append({**base, "test_id": f"tests/scenarios/test_ssd.py::test_cell[{split}-{coder}]",
                         "coder_name": coder, "rec_perf": mAP, "rec_size": size, "compress_ratio": size / anc_size,
                         "ref_rec_perf": mAP, "ref_rec_size": size, "rec_eval_time": 1.0 + i + int(split) / 10,
                         "status": "pass"})
    rows[3]["status"] = "fail"  # one failing cell: reference off by more than the tolerance
    rows[3]["ref_rec_perf"] = rows[3]["rec_perf"] + 5.0
    return rows


def asr_rows() -> list[dict[str, Any]]:
    rows = []
    for qp, ratio, wer in ((-38, 0.30, 0.051), (-30, 0.20, 0.055), (-22, 0.12, 0.07), (-14, 0.07, 0.11)):
        rows.append({"test_id": f"tests/scenarios/test_asr.py::test_cell[nncodec:qp={qp}]", "scenario_name": "asr",
                     "model_name": "asr_small", "data_set_name": "librispeech_small", "device": "cpu", "split": "",
                     "coder_name": f"nncodec:qp={qp}", "metric_name": "wer", "anc_perf": 0.05, "rec_perf": wer,
                     "anc_size": 1_000_000, "rec_size": int(1_000_000 * ratio), "compress_ratio": ratio,
                     "enc_time": 0.5, "dec_time": 0.2, "rec_eval_time": 3.0, "status": "pass"})
    return rows


ENVIRONMENT = {"cpu": "Test CPU 3000", "cuda": "no CUDAExecutionProvider", "python": "3.11.7",
               "packages": {"onnx": "1.23.2", "numpy": "1.26.4"},
               "assets": {"ssd_small": "0123456789abcdef0123456789abcdef"}}


def write_run(folder: Path, rows: list[dict[str, Any]], environment: dict[str, Any],
              mutate: Callable[[list[dict[str, Any]]], None] | None = None) -> Path:
    """A results folder written by harness.results from copies of ``rows``, changed by ``mutate`` first."""
    rows = [dict(r) for r in rows]
    if mutate:
        mutate(rows)
    write_results(rows, folder, environment)
    return folder


@pytest.fixture
def make_run(tmp_path: Path) -> Callable[..., Path]:
    """``make_run(name, rows=None, mutate=None)`` -> a results folder written by harness.results."""

    def make(name: str, rows: list[dict[str, Any]] | None = None,
             mutate: Callable[[list[dict[str, Any]]], None] | None = None) -> Path:
        default = detection_rows() + asr_rows()
        return write_run(tmp_path / name, rows if rows is not None else default, ENVIRONMENT, mutate)

    return make


# --- runs built from the suite's own cells (matrix/*.yaml), with made-up but plausible numbers -------------
SUITE_ENVIRONMENT = {**ENVIRONMENT, "gpu": "none (nvidia-smi absent or failed)", "driver": "none",
                     "onnxruntime_providers": ["CPUExecutionProvider"], "suite": {"package_version": "0.1.0"}}


def _cell_numbers(cell, index: int) -> dict[str, Any]:
    """calc_map falls with the coarseness of the coder's rate point; sizes shrink with it (deterministic)."""
    from harness.coders import make_coder

    split = cell.get("split")
    anc_size = 4 * 256 * 38 * 38 * (2 if split is None else max(1, 8 - int(split) // 20))
    coder = cell["coder_name"]
    if coder == "anchor":
        return {"split": "", "metric_name": "calc_map", "anc_perf": 87.19, "rec_perf": 87.19}
    view = make_coder(coder)
    rate = None if view.rate is None else float(view.rate)  # learnt coders: lambda is a string choice
    coarseness = 0.0 if rate is None else (rate + 40) / 56 if view.rate_param == "qp" else (12 - rate) / 10
    ratio = {"raw": 1.0, "fp16": 0.5}.get(coder, 0.3 * (1 - coarseness) + 0.01)
    rec_size = int(anc_size * ratio) + 64
    loss = 40 * coarseness ** 3 if rate is not None else 0.0
    return {"metric_name": "calc_map", "anc_perf": 87.19, "rec_perf": round(87.19 - loss, 4), "anc_size": anc_size,
            "rec_size": rec_size, "compress_ratio": rec_size / anc_size, "kbpi": rec_size * 8 / 1000 / 50,
            "enc_time": 0.01 * (index % 7), "dec_time": 0.01, "part2_time": 0.5}


def _split_only(cell) -> bool:
    from harness.coders import make_coder

    return cell["coder_name"] != "anchor" and make_coder(cell["coder_name"]).name in ("learnt", "learnt-scalable", "pca")


def suite_run_rows(scenario: str = "ssd", devices: tuple[str, ...] = ("cpu",), group: int = 0,
                   split_only: bool = True) -> list[dict[str, Any]]:
    """One row per cell of the first (model, data set) group of the suite's ``scenario``, as the generic cell test
    writes them (test id ``tests/scenarios/test_cells.py::test_cell[<cell.id>]``), plus two structure rows."""
    from harness.submission.suite import Suite, group_of

    cells = Suite().cells(scenario, devices)
    first = group_of(cells[0])
    rows = []
    # split_only=False leaves out the coders of coders_at (seed 003's learnt coders at split 90): the layout tests
    # derive the pivot's rows from the sweep's coders (their own section is tested in test_learnt_table); a
    # submission needs every cell
    sweep = [c for c in cells if group_of(c)[:2] == first[:2] and (split_only or not _split_only(c))]
    for index, cell in enumerate(sweep):
        row = {"test_id": f"tests/scenarios/test_cells.py::test_cell[{cell.id}]", **cell.identity_row(),
               **_cell_numbers(cell, index), "status": "pass"}
        rows.append(row)
    rows[7]["status"] = "fail"
    for split in (10, 30):
        rows.append({"test_id": f"tests/scenarios/test_structure_ssd.py::test_size[{split}]", "scenario_name": scenario,
                     "model_name": "ssd_resnet/seeded", "split": split, "coder_name": "none",
                     "metric_name": "intermediate_bytes", "anc_size": 1000 * split, "seed_mb": split / 100,
                     "status": "pass"})
    return rows


@pytest.fixture
def suite_run(tmp_path: Path) -> Callable[..., Path]:
    """``suite_run(name, mutate=None)`` -> a results folder of the ssd_small cells of matrix/ssd.yaml."""

    def make(name: str, mutate: Callable[[list[dict[str, Any]]], None] | None = None) -> Path:
        return write_run(tmp_path / name, suite_run_rows(), SUITE_ENVIRONMENT, mutate)

    return make
