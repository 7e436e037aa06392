"""Scenario ``ssd_cloud`` (seed 002 Fig. 5 green curve, Table 1 anchor; seed 001 §10.3.5 "fully inferred on
the network"; markers ``ssd_cloud`` and ``ssd``): the cloud-only anchor of split inference.

Each evaluation image is coded by an image coder (harness.coders.image: ``png``, ``jpeg:quality=Q``,
``hevc-image:qp=P``), decoded, and the whole detector runs on the decoded image, through the one detector loop
(harness.detection.inference.detect_images, at the split pipeline's graph optimisation level). Its rate is
seed 002's KBPI: coded bytes (container included, as for features) x 8 / 1000 per image, mean over the images
and its population standard deviation (seed 002's horizontal error bars). The detectors are those of
matrix/ssd.yaml (``detectors_from``), so every row joins the ssd scenario's rows on model, data set and device;
its ``split`` axis is ``cloud``.

Gated: calc_map, voc, AP, AP50 and the coded bytes (images and codecs are deterministic). Checked on every
run: a lossless image coder (``png``) gives exactly the detections of the uncoded images.
"""
from __future__ import annotations

import functools
import statistics
import tempfile
import time
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any, Mapping

import numpy as np

from harness.coders import Coder, make_coder
from harness.scenarios import SCENARIOS
from harness.scenarios.base import Cell, CellOutcome, Metric, RunContext, Scenario
from harness.scenarios.detection_outputs import DETECTION_ACCURACY, accuracy, accuracy_columns, keep_predictions

SPLIT = "cloud"  # the value of the split axis: nothing runs on the device, the image is sent


def kbpi_stats(coded_bytes: list[int]) -> tuple[float, float]:
    """(mean, population std) of the kilobits per image; same conventions as the ssd cells' KBPI."""
    return sum(coded_bytes) * 8 / 1000 / len(coded_bytes), statistics.pstdev(coded_bytes) * 8 / 1000


@functools.lru_cache(maxsize=None)
def _coded_images_class() -> type:
    from harness.detection.datasets import DetectionDataset  # lazily: no detection imports at collection

    @dataclass
    class CodedImages(DetectionDataset):
        """The dataset's images, each returned through an image coder; remembers sizes and coding times."""

        coder: Coder | None = None
        coded_bytes: dict[int, int] = field(default_factory=dict)
        enc_time: float = 0.0
        dec_time: float = 0.0
        bitstream_dir: Path | None = None  # where each image's bitstream is written, as a device would send it

        def read_image(self, image_id: int) -> np.ndarray:
            image = super().read_image(image_id)
            start = time.perf_counter()
            bitstream = self.coder.encode({"image": image})
            self.enc_time += time.perf_counter() - start
            if self.bitstream_dir is not None:
                (self.bitstream_dir / f"{image_id}.bin").write_bytes(bitstream)
            start = time.perf_counter()
            decoded = self.coder.decode(bitstream)["image"]
            self.dec_time += time.perf_counter() - start
            self.coded_bytes[image_id] = len(bitstream)
            return decoded

    return CodedImages


def coded_dataset(dataset: Any, coder: Coder, bitstream_dir: Path | None = None) -> Any:
    """A view of a detection dataset whose images come back through ``coder`` (encode, then decode), so that
    the one detector loop reads coded images without knowing it; ``bitstream_dir`` keeps the bitstreams."""
    return _coded_images_class()(**{f.name: getattr(dataset, f.name) for f in fields(dataset)}, coder=coder,
                                 bitstream_dir=bitstream_dir)


@SCENARIOS.register("ssd_cloud")
class CloudAnchorScenario(Scenario):
    description = "cloud-only anchor: input images coded (JPEG, HEVC intra), whole detector in the cloud"
    metrics = (
        *DETECTION_ACCURACY,
        Metric("compressed_bytes", "bytes"),
        Metric("kbpi", "kbit/image", gates=False),
        Metric("kbpi_std", "kbit/image", gates=False),
    )
    matrix_keys = {
        "detectors_from": "the matrix whose `detectors` list ({detector, dataset}) this anchor covers (ssd)",
        "coders": "image coder specs of the sweep (png, jpeg:quality=Q, hevc-image:qp=P)",
        "metric": "the accuracy metric named in results rows (calc_map, as the ssd scenario)",
    }
    required_matrix_keys = ("detectors_from", "coders", "metric")

    def __init__(self, matrix: Mapping[str, Any], context: RunContext) -> None:
        super().__init__(matrix, context)
        from harness.coders.image import ImageCoder
        from harness.matrix import load_matrix

        self.coders = [make_coder(spec) for spec in matrix["coders"]]
        bad = [c.spec for c in self.coders if not isinstance(c, ImageCoder)]
        if bad:
            raise ValueError(f"matrix/ssd_cloud.yaml: {', '.join(bad)} are not image coders (png, jpeg, hevc-image)")
        if matrix["metric"] not in self.gating_metrics():
            raise ValueError(f"matrix/ssd_cloud.yaml: metric {matrix['metric']!r} is not one of "
                             f"{self.gating_metrics()}")
        # a detector with a re-trained part 2 only (base_model set) has no cloud-only curve of its own: seed 002
        # compares re-trained weights with the default model's cloud-only anchor, which its base model's rows give
        # an entry without split points (an anchor-only figure) has no split curve for a cloud-only curve to join
        self.detectors = [entry for entry in load_matrix(matrix["detectors_from"])["detectors"]
                          if entry.get("splits", [None]) and not self._base_model(entry["detector"])]
        self._assets: dict[tuple[str, str], Any] = {}
        self._uncoded: dict[tuple[str, str, str], list[dict]] = {}
        self._uncoded_scores: dict[tuple[str, str, str], dict[str, Any]] = {}
        self._rows: dict[str, list[dict]] = {}  # the detections of each cell run here, for check_cell
        self._sent_bytes: dict[str, int] = {}  # the size of the bitstream files each cell wrote, for check_cell

    def _base_model(self, detector_name: str) -> str | None:
        from harness.detection.detectors import DETECTORS, AssetMissing

        try:
            return DETECTORS.get(detector_name)(self.context.data_dir).base_model
        except AssetMissing:
            return None  # its cells skip, naming the missing file

    def cells(self) -> list[Cell]:
        return [Cell(self.name, (("model_name", entry["detector"]), ("data_set_name", entry["dataset"]),
                                 ("device", device), ("split", SPLIT), ("coder_name", coder.spec)), marks=("ssd",))
                for entry in self.detectors for device in self.context.devices for coder in self.coders]

    # --- assets --------------------------------------------------------------------------------------
    def assets(self, detector_name: str, dataset_name: str) -> tuple[Any, Any]:
        """(detector, dataset); raises AssetMissing naming what to provide."""
        from harness.detection.datasets import DATASETS
        from harness.detection.detectors import DETECTORS

        key = (detector_name, dataset_name)
        if key not in self._assets:
            self._assets[key] = (DETECTORS.get(detector_name)(self.context.data_dir),
                                 DATASETS.get(dataset_name)(self.context.data_dir))
        return self._assets[key]

    def missing_reason(self, cell: Cell) -> str | None:
        from harness.detection.detectors import AssetMissing

        try:
            self.assets(cell["model_name"], cell["data_set_name"])
        except AssetMissing as exc:
            return str(exc)
        return None

    # --- one cell ------------------------------------------------------------------------------------
    def detect(self, cell: Cell, dataset: Any) -> tuple[list[dict], float]:
        """COCO rows of every image of ``dataset`` through the whole detector, and the network time."""
        from harness.detection.inference import detect_images, session_runner
        from harness.detection.pipeline import OPTIMIZATION

        detector, _ = self.assets(cell["model_name"], cell["data_set_name"])
        run = session_runner(detector.onnx_path, cell["device"], optimization=OPTIMIZATION)
        rows, seconds = [], 0.0
        for result in detect_images(detector, dataset, run=run):
            rows += result.rows
            seconds += result.seconds
        return rows, seconds

    def uncoded_rows(self, cell: Cell) -> list[dict]:
        key = (cell["model_name"], cell["data_set_name"], cell["device"])
        if key not in self._uncoded:
            self._uncoded[key] = self.detect(cell, self.assets(key[0], key[1])[1])[0]
        return self._uncoded[key]

    def score(self, cell: Cell, rows: list[dict]) -> dict[str, Any]:
        """The headline figures as the ssd scenario scores its cells (the pipeline's scorer, no model loaded)."""
        from harness.detection.pipeline import score_rows

        return score_rows(self.assets(cell["model_name"], cell["data_set_name"])[1].ground_truth, rows)

    def uncoded_score(self, cell: Cell) -> dict[str, Any]:
        """Scores of the uncoded images, computed once per group (every cell's anc_perf)."""
        key = (cell["model_name"], cell["data_set_name"], cell["device"])
        if key not in self._uncoded_scores:
            self._uncoded_scores[key] = self.score(cell, self.uncoded_rows(cell))
        return self._uncoded_scores[key]

    def run_cell(self, cell: Cell) -> CellOutcome:
        _, dataset = self.assets(cell["model_name"], cell["data_set_name"])
        with tempfile.TemporaryDirectory(prefix="cloud-anchor-") as folder:
            coded = coded_dataset(dataset, make_coder(cell["coder_name"]), Path(folder))
            rows, network_time = self.detect(cell, coded)
            # what was sent, measured on the files themselves rather than on the coder's bookkeeping
            self._sent_bytes[cell.id] = sum(path.stat().st_size for path in Path(folder).glob("*.bin"))
        self._rows[cell.id] = rows
        keep_predictions(self.context.results_dir, cell, rows)
        sizes = [coded.coded_bytes[image_id] for image_id in dataset.image_ids()]
        kbpi, kbpi_std = kbpi_stats(sizes)
        found = self.score(cell, rows)
        metric = self.matrix["metric"]
        measured = {**accuracy(found), "compressed_bytes": sum(sizes), "kbpi": kbpi, "kbpi_std": kbpi_std}
        raw = sum(3 * width * height for width, height in map(dataset.image_size, dataset.image_ids()))
        columns = {"metric_name": metric, "anc_perf": self.uncoded_score(cell)[metric],
                   **accuracy_columns(found, metric), "anc_size": raw, "rec_size": sum(sizes),
                   "compress_ratio": sum(sizes) / raw, "kbpi": kbpi, "kbpi_std": kbpi_std,
                   "enc_time": coded.enc_time, "dec_time": coded.dec_time, "rec_eval_time": network_time,
                   "detections": len(rows)}
        return CellOutcome(measured, columns)

    def check_cell(self, cell: Cell, outcome: CellOutcome) -> None:
        assert outcome.metrics["kbpi"] > 0
        sent = self._sent_bytes[cell.id]
        assert outcome.metrics["compressed_bytes"] == sent, \
            f"{cell.id}: {outcome.metrics['compressed_bytes']} bytes counted, {sent} bytes in the files written"
        if make_coder(cell["coder_name"]).is_lossless:
            # a lossless image coder must leave the cloud-only path exactly as the uncoded images
            assert self._rows[cell.id] == self.uncoded_rows(cell), \
                f"lossless {cell['coder_name']}: detections differ from those of the uncoded images"
            assert outcome.columns["rec_perf"] == outcome.columns["anc_perf"]
