"""Scenario ``sfu`` (marker ``sfu``): split inference on SFU-HW-Objects video (seed 000's second step; seed 001
§2.1.1.1, §9.4, §10.3.9.1).

The detection matrix of ``ssd`` and ``retinanet`` (harness.scenarios.ssd, with RetinaNet's seed split labels)
on data sets that are video sequences: ``sfu-<class>-<name>`` (harness.detection.datasets), whose images are
the frames decoded one at a time from the sequence's HEVC stream. Per cell, beside the accuracy and sizes:

* ``per_class_calc_map`` and ``per_class_coco_AP``: the sequence's per-class AP in calc_map style and in COCO
  style (pycocotools' precision array per category, percent), the layout of seed 001 §9.4's table (a row per
  sequence, a column per class; the report's "SFU-HW-Objects per sequence and class" section);
* ``nmse_frames_below_1e-5`` (every detection cell has it): the fraction of frames whose split-vs-unsplit
  output NMSE is below 1e-5 (seed 001 §10.3.9.1 reports 99.25 %). The rule: the NMSE of a frame is over the
  model's outputs; a graph with its post-processing outside (SSD) has fixed-size outputs before any NMS; a
  graph with its NMS inside (RetinaNet) outputs the detections sorted by score, and lists of different length
  are compared with the shorter zero-padded (harness.split.verify.padded_squared_error);
* ``frame_count``, the frames scored (also as ``frames`` in a run of whole sequences, where that is no axis),
  and the per-frame cost of each stage (``*_time_per_frame``);
* predictions one text file per frame in the seed's format, named by frame number.

``--frames START:STOP`` and ``--frame-stride N`` run a part of every sequence; the cells then carry the selection
in a ``frames`` axis (RunContext.frames_axis, as every cell on a video sequence does), so they never meet the
whole sequence's references, and two runs of different parts are two sets of cells.
"""
from __future__ import annotations

from typing import Any

from harness.scenarios import SCENARIOS
from harness.scenarios.base import ANCHOR, FRAMES_AXIS, Cell, CellOutcome
from harness.scenarios.retinanet import SeedSplits
from harness.scenarios.ssd import SsdScenario


@SCENARIOS.register("sfu")
class SfuScenario(SeedSplits, SsdScenario):
    description = "split inference on SFU-HW-Objects video sequences (embedded generated sequences by default)"

    def frame_columns(self, cell: Cell, columns: dict[str, Any], metrics: dict[str, Any]) -> None:
        from harness.detection.pipeline import per_class_columns

        pipeline = self.pipeline(cell["model_name"], cell["data_set_name"], cell["device"])
        frames = len(pipeline.dataset.image_ids())
        columns.update(frame_count=frames, **per_class_columns(metrics, pipeline.dataset.ground_truth))
        if cell.get(FRAMES_AXIS) is None:  # a run of whole sequences: ``frames`` is no axis, the count keeps it
            columns["frames"] = frames
        for stage in ("part1_time", "enc_time", "dec_time", "part2_time", "anc_eval_time"):
            if isinstance(columns.get(stage), (int, float)):
                columns[f"{stage}_per_frame"] = columns[stage] / frames

    def anchor_outcome(self, anchor: dict[str, Any], seconds: float, cell: Cell) -> CellOutcome:
        outcome = super().anchor_outcome(anchor, seconds, cell)
        self.frame_columns(cell, outcome.columns, anchor)
        return outcome

    def outcome(self, cell: Cell, result: Any, anchor: dict[str, Any]) -> CellOutcome:
        outcome = super().outcome(cell, result, anchor)
        self.frame_columns(cell, outcome.columns, result.metrics)
        return outcome

    def prediction_name(self, image_id: int) -> str:
        return f"{image_id - 1:03d}"  # the frame number, as the ground-truth files are named

    def check_cell(self, cell: Cell, outcome: CellOutcome) -> None:
        super().check_cell(cell, outcome)
        if cell["coder_name"] != ANCHOR and outcome.columns.get("output_nmse") == 0.0:
            assert outcome.columns["nmse_frames_below_1e-5"] == 1.0, "output NMSE 0 but not every frame below 1e-5"

