"""Scenario ``ssd`` (seed 000, seed 001 §10.3; marker ``ssd``): split-inference detection accuracy matrix.

Cells (matrix/ssd.yaml): detector/dataset x device x (the unsplit anchor, then split point x coder). A cell
runs part 2 on the decoded intermediate data of the evaluation images (part 1 ran once per image for the
whole sweep: harness.detection.pipeline) and gates calc_map (seed 000's metric), VOC and COCO accuracy and
the coded sizes. Predictions of every cell are kept under ``<results-dir>/predictions/`` for re-scoring,
as JSON and as the per-frame text of seed 001 §2.1.1.1.
"""
from __future__ import annotations

from typing import Any, Mapping, Sequence

import numpy as np

from harness.coders import make_coder
from harness.runtime import on_reference_platform
from harness.scenarios import SCENARIOS
from harness.scenarios.base import ANCHOR, Cell, CellOutcome, Metric, RunContext, Scenario
from harness.scenarios.detection_outputs import DETECTION_ACCURACY, accuracy, accuracy_columns, keep_predictions
from harness.scenarios.ssd_shards import SsdShards
# seed 001 §10.3.9.1: split vs unsplit NMSE below 1e-5 (RetinaNet, 99.25 % of frames) across platforms
SPLIT_NMSE_BOUND = 1e-5
# the column of that figure: the fraction of images (frames) whose output NMSE is below the bound
NMSE_FRAMES_COLUMN = "nmse_frames_below_1e-5"


@SCENARIOS.register("ssd")
class SsdScenario(SsdShards, Scenario):  # SsdShards: the hooks that let --executor ray shard it by image
    description = "ssd_resnet split-inference scenario (seed 000; embedded detector by default)"
    metrics = (
        *DETECTION_ACCURACY,
        Metric("compressed_bytes", "bytes"),
        Metric("uncompressed_bytes", "bytes"),
        Metric("kbpi", "kbit/image", gates=False),
    )
    matrix_keys = {
        "detectors": "list of {detector, dataset[, splits][, coders][, coders_at][, slow_splits]}: embedded "
                     "default first, real assets with --data-dir; an entry's own splits/coders replace the sweep's (a "
                     "fine-tuned part 2 is tested where it was trained); coders_at maps a split to coders added there "
                     "only (a learnt coder runs at the cut it was trained for); its cells at slow_splits are marked "
                     "slow (the nightly job's), the others keep every coder's path in the default run",
        "splits": "split indices; a split cuts BEFORE graph.node[index]",
        "coders": "coder specs of the sweep",
        "metric": "the accuracy metric named in results rows (calc_map, as seed 000)",
    }
    required_matrix_keys = ("detectors", "splits", "coders", "metric")

    def __init__(self, matrix: Mapping[str, Any], context: RunContext) -> None:
        super().__init__(matrix, context)
        if matrix["metric"] not in self.gating_metrics():
            raise ValueError(f"matrix/ssd.yaml: metric {matrix['metric']!r} is not one of {self.gating_metrics()}")
        self.splits = [self.split_label(s) for s in matrix["splits"]]
        self.coders = [make_coder(spec).spec for spec in matrix["coders"]]
        self.sweeps = {(entry["detector"], entry["dataset"]): self._sweep(entry) for entry in matrix["detectors"]}
        self.slow_splits = {(entry["detector"], entry["dataset"]): self._slow_splits(entry)
                            for entry in matrix["detectors"]}
        self.coders_at = {(entry["detector"], entry["dataset"]): self._coders_at(entry) for entry in matrix["detectors"]}
        self._pipelines: dict[tuple[str, str, str], Any] = {}
        self._split_of_label: dict[tuple[str, str, str], dict[Any, int]] = {}

    def _sweep(self, entry: Mapping[str, Any]) -> tuple[list[int], list[str]]:
        """(splits, coder specs) of one detectors entry: its own where given, else the sweep's."""
        allowed = {"detector", "dataset", "splits", "coders", "coders_at", "slow_splits"}
        if not isinstance(entry, Mapping) or not {"detector", "dataset"} <= set(entry) or set(entry) - allowed:
            raise ValueError(f"matrix/ssd.yaml: detectors entry {entry!r} must be a mapping with detector and "
                             f"dataset, optionally splits and coders (allowed keys: {', '.join(sorted(allowed))})")
        splits = [self.split_label(s) for s in entry["splits"]] if "splits" in entry else self.splits
        coders = [make_coder(spec).spec for spec in entry["coders"]] if "coders" in entry else self.coders
        return splits, coders

    def _coders_at(self, entry: Mapping[str, Any]) -> dict[Any, list[str]]:
        """The coders an entry adds at single splits (``coders_at: {90: [learnt:...]}``), canonical specs."""
        splits, coders = self._sweep(entry)
        extra = entry.get("coders_at", {})
        where = f"matrix/{self.name}.yaml: detectors entry {entry['detector']}/{entry['dataset']}"
        if not isinstance(extra, Mapping):
            raise ValueError(f"{where}: coders_at must map a split to a list of coder specs, got {extra!r}")
        out = {}
        for split, specs in extra.items():
            label = self.split_label(split)
            if label not in splits:
                raise ValueError(f"{where}: coders_at names split {split}, which is not among its splits "
                                 f"{[str(s) for s in splits]}")
            added = [make_coder(spec).spec for spec in specs]
            doubled = sorted(set(added) & set(coders)) or sorted({c for c in added if added.count(c) > 1})
            if doubled:
                raise ValueError(f"{where}: coders_at[{split}] repeats coder(s) {doubled} of the sweep")
            out[label] = added
        return out

    def _slow_splits(self, entry: Mapping[str, Any]) -> set[Any]:
        """The split labels whose cells are marked slow; at least one split stays in the default run, so every
        coder's code path is exercised there."""
        splits, _ = self._sweep(entry)
        slow = {self.split_label(s) for s in entry.get("slow_splits", [])}
        where = f"matrix/{self.name}.yaml: detectors entry {entry['detector']}/{entry['dataset']}"
        if slow - set(splits):
            raise ValueError(f"{where}: slow_splits {sorted(map(str, slow - set(splits)))} are not among its splits "
                             f"{[str(s) for s in splits]}")
        if splits and slow >= set(splits):
            raise ValueError(f"{where}: slow_splits names every split; leave at least one in the default run")
        return slow

    def split_label(self, value: Any) -> Any:
        """A matrix split value as the cells' ``split`` axis: here a node index (cut before graph.node[index])."""
        return int(value)

    def split_indices(self, detector: Any, labels: Sequence[Any]) -> dict[Any, int]:
        """The node index each split label cuts before on ``detector``'s graph (here the labels are indices)."""
        return {label: int(label) for label in labels}

    def split_index(self, cell: Cell) -> int:
        """The node index the pipeline cuts the cell's model before."""
        key = (cell["model_name"], cell["data_set_name"], cell["device"])
        self.pipeline(*key)
        return self._split_of_label[key][cell["split"]]

    def cells(self) -> list[Cell]:
        cells = []
        for entry in self.matrix["detectors"]:
            splits, coders = self.sweeps[(entry["detector"], entry["dataset"])]
            for device in self.context.devices:
                head = (("model_name", entry["detector"]), ("data_set_name", entry["dataset"]),
                        *self.context.frames_axis(entry["dataset"]), ("device", device))
                cells.append(Cell(self.name, head + (("coder_name", ANCHOR),)))
                slow = self.slow_splits[(entry["detector"], entry["dataset"])]
                extra = self.coders_at[(entry["detector"], entry["dataset"])]
                cells += [Cell(self.name, head + (("split", split), ("coder_name", coder)),
                               ("slow",) if split in slow else ())
                          for split in splits for coder in [*coders, *extra.get(split, [])]]
        return cells

    # --- assets and the pipeline ---------------------------------------------------------------------
    def pipeline(self, detector_name: str, dataset_name: str, device: str) -> Any:
        """The split-inference pipeline of a detector on a dataset (raises AssetMissing naming the file)."""
        from harness.detection.detectors import DETECTORS
        from harness.detection.pipeline import SplitDetectionPipeline

        key = (detector_name, dataset_name, device)
        if key not in self._pipelines:
            detector = DETECTORS.get(detector_name)(self.context.data_dir)
            dataset = self.context.detection_set(dataset_name)
            detector = dataset.fit_detector(detector)  # a data set with class ids of its own (SFU-HW-Objects)
            labels, _ = self.sweeps[(detector_name, dataset_name)]
            indices = self.split_indices(detector, labels)
            self._pipelines[key] = SplitDetectionPipeline(detector, dataset, sorted(set(indices.values())), device)
            self._split_of_label[key] = indices
        return self._pipelines[key]

    def missing_reason(self, cell: Cell) -> str | None:
        from harness.detection.detectors import AssetMissing

        try:
            self.pipeline(cell["model_name"], cell["data_set_name"], cell["device"])
        except AssetMissing as exc:
            return str(exc)
        return None

    # --- cells ---------------------------------------------------------------------------------------
    def run_cell(self, cell: Cell) -> CellOutcome:
        pipeline = self.pipeline(cell["model_name"], cell["data_set_name"], cell["device"])
        anchor = pipeline.anchor_metrics()
        if cell["coder_name"] == ANCHOR:
            keep_predictions(self.context.results_dir, cell, pipeline.anchor_detections(), self.prediction_name)
            return self.anchor_outcome(anchor, pipeline.meta()["anchor_time"], cell)
        result = pipeline.run_cell(self.split_index(cell), cell["coder_name"])
        keep_predictions(self.context.results_dir, cell, result.detections, self.prediction_name)
        return self.outcome(cell, result, anchor)

    def prediction_name(self, image_id: int) -> str:
        """The file name (no suffix) of an image's per-frame prediction text."""
        return str(image_id)

    def lineage_columns(self, cell: Cell) -> dict[str, str]:
        """``base_model`` on rows of a detector whose part 2 was re-trained from another's (the report joins
        its curves with that model's and its cloud-only anchor); nothing for a model of its own."""
        detector = self.pipeline(cell["model_name"], cell["data_set_name"], cell["device"]).detector
        return {"base_model": detector.base_model} if detector.base_model else {}

    def anchor_outcome(self, anchor: dict[str, Any], seconds: float, cell: Cell) -> CellOutcome:
        """The unsplit anchor cell from its scores and its inference time over the images."""
        metric = self.matrix["metric"]
        columns = {"split": "", "metric_name": metric, "anc_perf": anchor[metric],
                   **accuracy_columns(anchor, metric), "anc_eval_time": seconds, **self.lineage_columns(cell)}
        return CellOutcome(accuracy(anchor), columns)

    def outcome(self, cell: Cell, result: Any, anchor: dict[str, Any]) -> CellOutcome:
        """Metrics and results columns of a split x coder cell from the pipeline's CellResult."""
        metric = self.matrix["metric"]
        measured = {**accuracy(result.metrics), "compressed_bytes": result.compressed_bytes,
                    "uncompressed_bytes": result.uncompressed_bytes, "kbpi": result.kbpi}
        columns = {"metric_name": metric, "anc_perf": anchor[metric], **accuracy_columns(result.metrics, metric),
                   "anc_size": result.uncompressed_bytes, "rec_size": result.compressed_bytes,
                   "compress_ratio": result.compress_ratio, "kbpi": result.kbpi,
                   "feature_nmse": result.feature_nmse, "output_nmse": result.output_nmse,
                   NMSE_FRAMES_COLUMN: result.fraction_below(SPLIT_NMSE_BOUND),
                   "enc_time": result.enc_time, "dec_time": result.dec_time, "part1_time": result.part1_time,
                   "part2_time": result.part2_time, "metrics_time": result.metrics_time,
                   "rec_eval_time": result.part2_time, "part1_sha256": result.part1_sha256,
                   "part2_input_sha256": result.part2_input_sha256, **self.lineage_columns(cell),
                   "graph_nodes": len(self.pipeline(cell["model_name"], cell["data_set_name"],
                                                    cell["device"]).planner.nodes)}
        if result.estimated_bytes is not None:  # a coder with an entropy model: its estimate beside the bytes
            columns["estimated_bytes"] = result.estimated_bytes
        # seed 003's run-time table: device side = part 1 + feature encoder, server side = decoder + part 2
        columns["device_time"] = result.part1_time + result.enc_time
        columns["server_time"] = result.dec_time + result.part2_time
        if hasattr(result, "kbpi_std"):
            measured["kbpi_std"] = columns["kbpi_std"] = result.kbpi_std
        return CellOutcome(measured, columns)

    def check_lossless_picture_coder(self, cell: Cell, bits: int, outcome: CellOutcome) -> None:
        """A video or image codec in lossless mode after the Q-layer has a known answer: part 2 receives exactly
        the Q-layer's reconstruction at the same bit depth (x265 / OpenJPEG exact on the quantised samples)."""
        from harness.coders.qlayer import dequantise, quantise
        from harness.split.verify import combined_sha256, tensors_sha256

        pipeline = self.pipeline(cell["model_name"], cell["data_set_name"], cell["device"])
        def qlayer_round_trip(value: Any) -> Any:
            if not np.issubdtype(value.dtype, np.floating):
                return value  # integer and boolean side tensors are carried exactly (harness.coders.base)
            lo, hi, q = quantise(value, bits)
            return dequantise(q, lo, hi, bits)

        order = pipeline.dataset.image_ids()
        features = pipeline.features(self.split_index(cell))
        expected = combined_sha256([tensors_sha256({name: qlayer_round_trip(value) for name, value in
                                                    features[image_id].items()}) for image_id in order])
        assert outcome.columns["part2_input_sha256"] == expected, \
            f"{cell.id}: the decoded tensors differ from the Q-layer's {bits}-bit reconstruction"

    def sizes_follow_inference(self, cell: Cell) -> bool:
        return cell["coder_name"] != ANCHOR and make_coder(cell["coder_name"]).size_depends_on_values

    def check_cell(self, cell: Cell, outcome: CellOutcome) -> None:
        if cell["coder_name"] == ANCHOR:
            return
        coder = make_coder(cell["coder_name"])
        if coder.values.get("lossless") is True and "bits" in coder.values:
            self.check_lossless_picture_coder(cell, coder.values["bits"], outcome)
        if not coder.is_lossless:
            return
        columns = outcome.columns
        assert columns["feature_nmse"] == 0.0, f"lossless {cell['coder_name']}: feature NMSE {columns['feature_nmse']}"
        if on_reference_platform(cell["device"]):
            # split inference bit-exact with the unsplit anchor (onnxruntime `extended` level, CPU)
            assert columns["output_nmse"] == 0.0, f"lossless {cell['coder_name']}: output NMSE {columns['output_nmse']}"
            assert columns["rec_perf"] == columns["anc_perf"], f"lossless cell changed {columns['metric_name']}"
        else:
            # other kernels on each side of the cut: seed 001 §10.3.9.1's bound between split and unsplit
            assert columns["output_nmse"] <= SPLIT_NMSE_BOUND, \
                f"lossless {cell['coder_name']}: output NMSE {columns['output_nmse']} > {SPLIT_NMSE_BOUND}"
