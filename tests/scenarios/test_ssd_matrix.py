"""The detection matrix of seed 000 (marker ``ssd``): every detector x split point x coder against references.

Each cell runs part 2 on the decoded intermediate data of the 50 evaluation images and compares calc_map,
VOC and COCO accuracy and the compressed size with ``references/expected_metrics.json`` within
``tolerances.yaml``. Predictions of every cell are kept under ``<results-dir>/predictions/`` for re-scoring.
"""
from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from harness.coders import make_coder
from harness.matrix import load_matrix
from harness.metrics.frame_text import FramePrediction, write_frame_predictions
from harness.references import atomic_write_text, get_reference

MATRIX = load_matrix("ssd")
SPLITS = [int(s) for s in MATRIX["splits"]]
pytestmark = pytest.mark.ssd

DETECTOR_PARAMS = [pytest.param(d["detector"], d["dataset"], id=f"{d['detector']}-{d['dataset']}")
                   for d in MATRIX["detectors"]]


def _reference_keys(detector: str, dataset: str, device: str, *rest: str) -> list[str]:
    return ["ssd", f"{detector}/{dataset}/{device}", *rest]


def _safe(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.=-]+", "_", name)


def _keep_predictions(results_dir: Path, detector: str, dataset: str, device: str, cell: str, rows: list[dict]) -> None:
    folder = results_dir / "predictions" / _safe(f"{detector}-{dataset}-{device}")
    atomic_write_text(folder / f"{_safe(cell)}.json", json.dumps(rows))
    # seed 001 §2.1.1.1 per-frame text: <label> <confidence> <x> <y> <w> <h>, one file per image
    frames: dict[int, list[FramePrediction]] = {}
    for row in rows:
        frames.setdefault(row["image_id"], []).append(FramePrediction(row["category_id"], row["score"], *row["bbox"]))
    for image_id, predictions in frames.items():
        write_frame_predictions(folder / _safe(cell) / f"{image_id}.txt", predictions)


@pytest.mark.parametrize("detector,dataset", DETECTOR_PARAMS)
def test_anchor(detector, dataset, device, detection_pipeline, results_dir, record_result, check_reference):
    """The unsplit model: its accuracy is the anchor every cell is compared with."""
    pipeline = detection_pipeline(detector, dataset, SPLITS, device)
    metrics = pipeline.anchor_metrics()
    rows = pipeline.anchor_detections()
    _keep_predictions(results_dir, detector, dataset, device, "anchor", rows)
    meta = pipeline.meta()
    record_result({"scenario_name": "ssd", "model_name": detector, "data_set_name": dataset, "device": device,
                   "split": "", "coder_name": "anchor", "metric_name": MATRIX["metric"],
                   "anc_perf": metrics["calc_map"], "rec_perf": metrics["calc_map"], "map_voc": metrics["voc"],
                   "map_coco_AP": metrics["AP"], "map_coco_AP50": metrics["AP50"],
                   "anc_eval_time": meta["anchor_time"], "status": "pass"})
    check_reference(_reference_keys(detector, dataset, device, "anchor"),
                    {"calc_map": metrics["calc_map"], "voc": metrics["voc"], "AP": metrics["AP"], "AP50": metrics["AP50"]})


@pytest.mark.parametrize("split", SPLITS, ids=[f"split{s}" for s in SPLITS])
@pytest.mark.parametrize("detector,dataset", DETECTOR_PARAMS)
def test_one_pass_features_equal_part1(detector, dataset, split, device, detection_pipeline, tolerances):
    """Part 1 of each split point reproduces the one-pass features (seed 001 §10.3.9.1 split == unsplit)."""
    pipeline = detection_pipeline(detector, dataset, SPLITS, device)
    assert pipeline.meta()["part1_max_abs_diff"][str(split)] <= tolerances["metrics"]["split_max_abs_diff"]["abs"]


@pytest.mark.parametrize("coder", MATRIX["coders"])
@pytest.mark.parametrize("split", SPLITS, ids=[f"split{s}" for s in SPLITS])
@pytest.mark.parametrize("detector,dataset", DETECTOR_PARAMS)
def test_cell(detector, dataset, split, coder, device, detection_pipeline, results_dir, record_result,
              check_reference, request):
    pipeline = detection_pipeline(detector, dataset, SPLITS, device)
    anchor = pipeline.anchor_metrics()
    cell = pipeline.run_cell(split, coder)
    _keep_predictions(results_dir, detector, dataset, device, f"split{split}-{coder}", cell.detections)
    measured = {"calc_map": cell.metrics["calc_map"], "voc": cell.metrics["voc"], "AP": cell.metrics["AP"],
                "AP50": cell.metrics["AP50"], "compressed_bytes": cell.compressed_bytes,
                "uncompressed_bytes": cell.uncompressed_bytes}
    keys = _reference_keys(detector, dataset, device, f"split{split}", cell.coder)
    reference = get_reference(keys) or {}
    row = {"scenario_name": "ssd", "model_name": detector, "data_set_name": dataset, "device": device,
           "split": split, "coder_name": cell.coder, "metric_name": MATRIX["metric"],
           "anc_perf": anchor["calc_map"], "rec_perf": cell.metrics["calc_map"],
           "anc_size": cell.uncompressed_bytes, "rec_size": cell.compressed_bytes,
           "compress_ratio": cell.compress_ratio, "kbpi": cell.kbpi, "feature_nmse": cell.feature_nmse,
           "output_nmse": cell.output_nmse, "enc_time": cell.enc_time, "dec_time": cell.dec_time,
           "part1_time": cell.part1_time, "part2_time": cell.part2_time, "metrics_time": cell.metrics_time, "rec_eval_time": cell.part2_time,
           "map_voc": cell.metrics["voc"], "map_coco_AP": cell.metrics["AP"], "map_coco_AP50": cell.metrics["AP50"],
           "ref_rec_perf": reference.get("calc_map"), "ref_rec_size": reference.get("compressed_bytes"),
           "status": "fail"}
    try:
        if cell.coder == "raw":  # lossless, and split inference bit-exact with the unsplit anchor
            assert cell.feature_nmse == 0.0 and cell.output_nmse == 0.0
            assert cell.metrics["calc_map"] == anchor["calc_map"]
        check_reference(keys, measured)
        row["status"] = "pass"
    finally:
        record_result(row)


@pytest.mark.parametrize("detector,dataset", DETECTOR_PARAMS)
def test_matrix_discriminates(detector, dataset, device, request):
    """Recorded references: lossless cells keep the anchor, and the coarsest QP costs >= 5 points somewhere."""
    if request.config.getoption("--update-references"):
        pytest.skip("references are being recorded in this run")
    anchor = get_reference(_reference_keys(detector, dataset, device, "anchor"))
    if anchor is None:
        pytest.skip(f"no references recorded for {detector}/{dataset}/{device}")
    cells = {s: get_reference(_reference_keys(detector, dataset, device, f"split{s}")) or {} for s in SPLITS}
    for split, by_coder in cells.items():
        assert by_coder.get("raw", {}).get("calc_map") == pytest.approx(anchor["calc_map"], abs=0.01), split
    nncodec = [make_coder(c) for c in MATRIX["coders"] if c.startswith("nncodec")]
    coarsest = max(nncodec, key=lambda coder: coder.values["qp"]).spec
    losses = [anchor["calc_map"] - by_coder[coarsest]["calc_map"] for by_coder in cells.values() if coarsest in by_coder]
    assert losses and max(losses) >= 5.0, f"{coarsest} never loses 5 calc_map points: {losses}"
