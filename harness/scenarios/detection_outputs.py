"""What the detection scenarios (``ssd``, ``ssd_cloud``) report of a set of detections: the headline accuracy
figures the metric styles declare, their results columns, and the predictions kept for re-scoring."""
from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any, Callable, Mapping

from harness.files import atomic_write_text
from harness.metrics import headlines
from harness.scenarios.base import ANCHOR, Cell, Metric

# the accuracy of every detection scenario: the headline figures the metric styles declare (all in percent)
DETECTION_ACCURACY = tuple(Metric(h.name, h.unit, h.higher_is_better) for _, h in headlines())


def accuracy_columns(metrics: Mapping[str, Any], metric: str) -> dict[str, Any]:
    """Results columns of the headline figures: ``rec_perf`` for the scenario's metric, each style's own column
    (map_voc, map_coco_AP, ...) for the others."""
    columns = {"rec_perf": metrics[metric]}
    columns.update({h.column: metrics[h.name] for _, h in headlines() if h.column != "rec_perf"})
    return columns


def accuracy(metrics: Mapping[str, Any]) -> dict[str, float]:
    """The gated headline figures of a scored set of detections."""
    return {m.name: metrics[m.name] for m in DETECTION_ACCURACY}


def _safe(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.=-]+", "_", name)


def keep_predictions(results_dir: Path, cell: Cell, rows: list[dict], name_of: Callable[[int], str] = str) -> None:
    """Detections of a cell as COCO JSON and as per-frame text (<label> <confidence> <x> <y> <w> <h>), one file
    per image named ``name_of(image id)``."""
    from harness.metrics.frame_text import FramePrediction, write_frame_predictions

    folder = results_dir / "predictions" / _safe(f"{cell['model_name']}-{cell['data_set_name']}-{cell['device']}")
    name = ANCHOR if cell["coder_name"] == ANCHOR else f"split{cell['split']}-{cell['coder_name']}"
    atomic_write_text(folder / f"{_safe(name)}.json", json.dumps(rows))
    frames: dict[int, list[FramePrediction]] = {}
    for row in rows:
        frames.setdefault(row["image_id"], []).append(FramePrediction(row["category_id"], row["score"], *row["bbox"]))
    for image_id, predictions in frames.items():
        write_frame_predictions(folder / _safe(name) / f"{name_of(image_id)}.txt", predictions)
