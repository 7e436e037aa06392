"""Scenario ``derive`` (seed 001 §5, §9.4; seed 004; marker ``derive``): the device anchor derived from the
network's model by INT8 quantization and magnitude pruning (harness.derive), measured for size, sparsity, speed
and accuracy against the FP32 model.

Cells: model x method (``fp32``, ``qdq-static``, ``dynamic``, ``prune-global``) x level (calibration images,
sparsity), the methods listed per model. The embedded detector is derived as ONNX (onnxruntime's quantizer,
torch's pruning on its weights) and scored by calc_map; the embedded ASR model in torch (dynamic int8 of its
GRU and Linear layers: onnxruntime's quantizer has no GRU) and scored by WER. Gated: the accuracy, the file's
bytes and zlib-coded bytes, sparsity counted from the weights, parameters and (ONNX) nodes. Independent checks: a pruned model's measured sparsity equals the requested one within
one weight; a quantized model's outputs stay within the declared NMSE of the FP32 model's on the calibration
images (for a graph with its post-processing inside, at the network's last layers, where that starts); the
derived file's size is the file's. CPU latency (median of ``latency_repeat`` runs on one feed) and its ratio to
FP32 measured in the same cell are machine columns.

A model entry lists one ``data_set`` or several ``data_sets``: seed 001 §9.4's table of the original against the
quantized model is a row per SFU-HW-Objects sequence and method and a column per class (``per_class_calc_map``,
``per_class_coco_AP``; harness.report.sfu_table). A detector whose box decoding and NMS are in the graph is
quantized on its convolutions only (``quantize_op_types``). The user's models (``--data-dir``) are entries like
any other; without their files each cell skips naming the asset it lacks. ``--frames`` and ``--frame-stride``
cut every sequence as in ``sfu`` (a ``frames`` axis on those cells; the calibration images stay the first of
their source).

**The derived model as the device anchor in split inference** (seed 001 §5): a detection model's ``splits``
add, per method, cells with a ``split`` axis: part 1 of the derived model, cut at the tensors the FP32 graph's
split index names (harness.derive.device_part1; quantization renumbers the nodes), runs on the device and the
network's FP32 part 2 after it. Float crosses the cut by default: the derived part 1's last activations as
float32 (a QDQ model dequantizes them), the tensors every feature coder and the FP32 part 2 take. Gated:
calc_map, the part-1 file's sizes, sparsity, parameters and nodes; recorded: the FP32 part 1's bytes, the cut
bytes and dtypes, the part-1 latency and its ratio to the FP32 part 1's. Checks: float32 crosses; the derived
part 1 gives the derived whole model's own tensors at the cut, bit for bit; the FP32 model cut this way scores
what the unsplit FP32 model scores.
"""
from __future__ import annotations

import tempfile
from itertools import product
from pathlib import Path
from typing import Any, Mapping

import numpy as np

from harness.scenarios import SCENARIOS
from harness.scenarios.base import Cell, CellOutcome, Metric, RunContext, Scenario

FP32 = "fp32"
METHODS = (FP32, "qdq-static", "dynamic", "prune-global", "prune-structured", "qdq-aware")
#: methods whose part 1 cannot meet the FP32 part 2: channel pruning changes the cut tensors' channel counts
WHOLE_MODEL_ONLY = ("prune-structured",)
#: the ``size`` task (a built model without data: file sizes and parameter counts only, seed 001 §9.4)
SIZE_METHODS = (FP32, "dynamic", "prune-global")
#: methods with a fine-tuning step (``finetune: STEPS`` in a methods entry)
FINETUNED = ("prune-structured", "prune-global", "qdq-static")
#: the code a fine-tuning's result depends on: its checkpoint (a resumed or finished re-training) is keyed by it
FINETUNE_CODE = ("harness.derive", "harness.detection.ssd", "harness.datasets.synthetic_shapes")
QUANTIZED = ("qdq-static", "dynamic", "qdq-aware")


def data_sets(entry: Mapping[str, Any]) -> list[str]:
    """The data sets a model entry is derived and scored on (``data_sets``, or the one ``data_set``)."""
    return list(entry.get("data_sets") or ([entry["data_set"]] if entry.get("data_set") else []))


@SCENARIOS.register("derive")
class DeriveScenario(Scenario):
    description = "device anchor derived by INT8 quantization and pruning (seed 001 §5, §9.4; seed 004)"
    metrics = (
        Metric("calc_map", "percent", higher_is_better=True), Metric("wer", "fraction", higher_is_better=False),
        Metric("file_bytes", "bytes"), Metric("zlib_bytes", "bytes"), Metric("sparsity", "fraction"),
        Metric("parameters", "count"), Metric("nodes", "count"),
    )
    matrix_keys = {"models": "model -> {task: detection|asr|size, data_set (or data_sets: a list), calibration_seed "
                             "(or calibration_data_set), quantize_op_types, methods: [{method, level[, finetune]"
                             "[, slow]}], splits} (level: calibration images, sparsity or channel ratio; finetune: "
                             "re-training steps after the method, a cell beside the one without; splits: node "
                             "indices where the derived part 1 meets the FP32 part 2, detection only; "
                             "calibration_data_set: a data set whose first images calibrate, else the generated "
                             "stream of calibration_seed; quantize_op_types: the operator types quantized, e.g. "
                             "[Conv] for a graph with its post-processing inside)",
                   "quantized_output_nmse_max": "declared NMSE of a quantized model's outputs to FP32's",
                   "aware_output_nmse_max": "the bound the accuracy-aware quantization (qdq-aware) keeps nodes in "
                                            "float for",
                   "retrained_output_nmse_max": "declared NMSE of a re-trained quantized model's outputs to its own "
                                                "re-trained float model's",
                   "latency_repeat": "steady-state runs of the latency measurement"}
    required_matrix_keys = ("models", "quantized_output_nmse_max", "latency_repeat")
    TORCH_METHODS = (FP32, "dynamic")

    def __init__(self, matrix: Mapping[str, Any], context: RunContext) -> None:
        super().__init__(matrix, context)
        for model, entry in matrix["models"].items():
            allowed = {"asr": self.TORCH_METHODS, "size": SIZE_METHODS}.get(entry.get("task"), METHODS)
            bad = [m["method"] for m in entry["methods"] if m["method"] not in allowed]
            if bad:
                raise ValueError(f"matrix/derive.yaml: {model}: method(s) {', '.join(bad)} not available for its "
                                 f"task; known: {', '.join(allowed)}")
            if not data_sets(entry):
                raise ValueError(f"matrix/derive.yaml: {model}: give data_set or data_sets")
            tuned = [m["method"] for m in entry["methods"] if m.get("finetune") and m["method"] not in FINETUNED]
            if tuned:
                raise ValueError(f"matrix/derive.yaml: {model}: finetune is implemented for {', '.join(FINETUNED)}, "
                                 f"not {', '.join(tuned)}")
        uncalibrated = [model for model, entry in matrix["models"].items() if entry.get("task", "detection") ==
                        "detection" and any(m["method"] in QUANTIZED for m in entry["methods"])
                        and "calibration_seed" not in entry and not entry.get("calibration_data_set")]
        if uncalibrated:  # static QDQ calibrates on them, and every quantized cell's output check reads them
            raise ValueError(f"matrix/derive.yaml: {uncalibrated[0]} has quantized cells: give calibration_seed "
                             "(generated images) or calibration_data_set")
        retrained = [model for model, entry in matrix["models"].items()
                     if any(m.get("finetune") and m["method"] in QUANTIZED for m in entry["methods"])]
        if retrained and "retrained_output_nmse_max" not in matrix:
            raise ValueError(f"matrix/derive.yaml: {retrained[0]} has a re-trained quantized cell: declare "
                             "retrained_output_nmse_max, the bound of its outputs to its re-trained float model")
        self._anchor: dict[tuple[str, ...], dict[str, Any]] = {}
        self._checks: dict[str, dict[str, Any]] = {}
        self._assets: dict[tuple[str, str], tuple[Any, Any]] = {}
        self._calibration: dict[tuple[str, int], list[dict[str, np.ndarray]]] = {}

    def cells(self) -> list[Cell]:
        cells = []
        for model, entry in self.matrix["models"].items():
            for data_set, device, m in product(data_sets(entry), self.context.devices, entry["methods"]):
                head = (("model_name", model), ("data_set_name", data_set), *self.context.frames_axis(data_set),
                        ("device", device), ("method", m["method"]), ("level", m["level"]))
                if m.get("finetune"):  # re-trained: a cell beside the one without re-training
                    head += (("finetune", int(m["finetune"])),)
                cells.append(Cell(self.name, head, ("slow",) if m.get("slow") else ()))
                if m["method"] not in WHOLE_MODEL_ONLY:
                    cells += [Cell(self.name, head + (("split", int(split)),)) for split in entry.get("splits", [])]
        return cells

    def missing_reason(self, cell: Cell) -> str | None:
        """A detection cell of a user's model or data set (``--data-dir``) names the file it lacks."""
        from harness.assetstore.paths import AssetMissing

        if self.is_asr(cell) or self.is_size(cell):
            return None
        try:
            self.detector_and_data(cell)
            if self.matrix["models"][cell["model_name"]].get("calibration_data_set") \
                    and cell["method"] in QUANTIZED:  # calibration, and the output check's feeds
                self.calibration_data_set(cell)
        except AssetMissing as exc:
            return str(exc)
        return None

    def is_asr(self, cell: Cell) -> bool:
        return self.matrix["models"][cell["model_name"]].get("task") == "asr"

    def is_size(self, cell: Cell) -> bool:
        return self.matrix["models"][cell["model_name"]].get("task") == "size"

    def run_size_cell(self, cell: Cell) -> CellOutcome:
        """A built model (harness.models.MODELS, seeded weights) and its derivation: sizes and counts only."""
        from harness.derive import model_figures
        from harness.derive.prune import prune_global
        from harness.derive.quantize import quantize
        from harness.models import MODELS

        source = Path(MODELS.get(cell["model_name"])())
        fp32 = model_figures(source)
        with tempfile.TemporaryDirectory(prefix="derive-size-") as folder:
            out = Path(folder) / "derived.onnx"
            if cell["method"] == FP32:
                path = source
            elif cell["method"] == "dynamic":
                path = quantize(source, out, "dynamic").path
            else:
                path = prune_global(source, out, float(cell["level"])).path
            figures = model_figures(path)
            self._checks[cell.id] = {"file_size": path.stat().st_size, "fp32": fp32}
        metrics = {k: figures[k] for k in ("file_bytes", "zlib_bytes", "sparsity", "parameters", "nodes")}
        columns = {**figures, "metric_name": "file_bytes", "file_mb": figures["file_bytes"] / 1e6,
                   "size_ratio_to_fp32": figures["file_bytes"] / fp32["file_bytes"]}
        return CellOutcome(metrics, columns)

    # --- assets ----------------------------------------------------------------------------------------
    def detector_and_data(self, cell: Cell) -> tuple[Any, Any]:
        """The detector and its data set, built once per scenario instance (every step of a cell reads them)."""
        from harness.detection.detectors import DETECTORS

        key = (cell["model_name"], cell["data_set_name"])
        if key not in self._assets:
            dataset = self.context.detection_set(key[1])
            # a data set with class ids of its own (SFU-HW-Objects) gets the detector reporting them
            self._assets[key] = (dataset.fit_detector(DETECTORS.get(key[0])(self.context.data_dir)), dataset)
        return self._assets[key]

    def calibration_data_set(self, cell: Cell) -> Any:
        from harness.detection.datasets import DATASETS

        return DATASETS.get(self.matrix["models"][cell["model_name"]]["calibration_data_set"])(self.context.data_dir)

    def calibration(self, cell: Cell, count: int) -> list[dict[str, np.ndarray]]:
        """``count`` feeds (made once per model and count: quantization and the output check read the same
        feeds): the first images of the entry's ``calibration_data_set`` (seed 001 §9.4 calibrates on COCO and
        evaluates on SFU-HW-Objects), else a stream of the generator other than the evaluation one."""
        from harness.datasets.synthetic_shapes import generate_sample

        key = (cell["model_name"], count)
        if key not in self._calibration:
            detector, _ = self.detector_and_data(cell)
            entry = self.matrix["models"][cell["model_name"]]
            if entry.get("calibration_data_set"):
                source = self.calibration_data_set(cell)
                ids = source.image_ids()
                if len(ids) < count:
                    raise ValueError(f"matrix/derive.yaml: {cell['model_name']}: calibration_data_set "
                                     f"{source.name} has {len(ids)} images, {count} asked for")
                images = [source.read_image(image_id) for image_id in ids[:count]]
            else:
                images = [generate_sample(int(entry["calibration_seed"]), i).image for i in range(count)]
            self._calibration[key] = [detector.preprocess(image) for image in images]
        return self._calibration[key]

    # --- one cell ----------------------------------------------------------------------------------------
    def derive(self, cell: Cell, folder: Path) -> tuple[Path, Path]:
        """(the derived model written under ``folder``, the float model it approximates: FP32's, or the
        re-trained float model a quantization-aware re-training quantized)."""
        from harness.derive.prune import prune_global
        from harness.derive.quantize import quantize, quantize_accuracy_aware
        from harness.derive.structured import prune_structured

        detector, _ = self.detector_and_data(cell)
        method, level = cell["method"], cell["level"]
        op_types = self.matrix["models"][cell["model_name"]].get("quantize_op_types")
        out = folder / f"{cell['model_name']}-{method}-{level}.onnx"
        fp32 = Path(detector.onnx_path)
        if method == FP32:
            return fp32, fp32
        steps = int(cell.get("finetune") or 0)
        if method == "prune-global":
            return prune_global(fp32, out, float(level), steps, self.checkpoint(cell)).path, fp32
        if method == "prune-structured":
            return prune_structured(fp32, out, float(level), steps, self.checkpoint(cell)).path, fp32
        if method == "qdq-aware":
            return quantize_accuracy_aware(fp32, out, self.calibration(cell, int(level)),
                                           float(self.matrix["aware_output_nmse_max"]), calibrate="minmax",
                                           op_types=op_types).path, fp32
        mode = "static" if method == "qdq-static" else "dynamic"
        feeds = self.calibration(cell, int(level)) if mode == "static" else []
        retrained = folder / f"{out.stem}-retrained-float.onnx" if steps else None
        derived = quantize(fp32, out, mode, feeds, op_types=op_types, finetune_steps=steps,
                           checkpoint=self.checkpoint(cell), retrained_out=retrained)
        return derived.path, retrained or fp32

    def checkpoint(self, cell: Cell) -> Path | None:
        """Where a fine-tuned cell keeps its re-training's state (harness.derive.torch_models.finetune): a run
        stopped part way resumes there, a finished one is read back; keyed by the model file and the code."""
        import hashlib

        from harness.files import cache_root, code_version

        if not cell.get("finetune"):
            return None
        detector, _ = self.detector_and_data(cell)
        code = hashlib.md5(code_version(FINETUNE_CODE).encode()).hexdigest()[:12]
        return (cache_root() / "finetune" / f"{cell['model_name']}-{detector.md5[:12]}-{cell['method']}-"
                f"{cell['level']}-{int(cell['finetune'])}-{code}.pt")

    def evaluate(self, cell: Cell, path: Path) -> tuple[dict[str, Any], float]:
        """(scores of the model on the data set, median latency in ms on the first image's feed)."""
        from harness.derive.device_part1 import median_ms
        from harness.detection.inference import detect_images, runner_of
        from harness.detection.pipeline import score_rows
        from harness.runtime import make_session

        detector, dataset = self.detector_and_data(cell)
        session = make_session(str(path), device=cell["device"])  # one session: the scores and the latency
        rows = [row for result in detect_images(detector, dataset, run=runner_of(session))
                for row in result.rows]
        feed = detector.preprocess(dataset.read_image(dataset.image_ids()[0]))
        return score_rows(dataset.ground_truth, rows), median_ms(session, feed, int(self.matrix["latency_repeat"]))

    def anchor(self, cell: Cell) -> dict[str, Any]:
        key = (cell["model_name"], cell["data_set_name"], cell["device"])
        if key not in self._anchor:
            detector, _ = self.detector_and_data(cell)
            scores, latency = self.evaluate(cell, Path(detector.onnx_path))
            self._anchor[key] = {"scores": scores, "latency_ms": latency}
        return self._anchor[key]

    def run_asr_cell(self, cell: Cell) -> CellOutcome:
        """The embedded ASR model derived in torch, scored by WER on its evaluation set."""
        import torch

        from harness.asr.task import build_task
        from harness.derive.torch_dynamic import quantize_dynamic, state_figures

        torch.set_num_threads(1)  # 2 shared cores, as the ASR scenario
        task = build_task(cell["model_name"], device=cell["device"], data_dir=self.context.data_dir)
        model = task.get_model(pre_trained=True)
        key = (cell["model_name"], cell["device"])
        if key not in self._anchor:
            wer, seconds = task.get_perf(model)
            self._anchor[key] = {"wer": wer, "seconds": seconds, "file_bytes": state_figures(model)["file_bytes"]}
        derived = model if cell["method"] == FP32 else quantize_dynamic(model)
        wer, seconds = (self._anchor[key]["wer"], self._anchor[key]["seconds"]) if cell["method"] == FP32 \
            else task.get_perf(derived)
        figures = state_figures(derived)
        anchor = self._anchor[key]
        self._checks[cell.id] = {"file_size": figures["file_bytes"], "output_nmse": None,
                                 "fp32_file_bytes": anchor["file_bytes"]}
        metrics = {"wer": wer, **{k: figures[k] for k in ("file_bytes", "zlib_bytes", "sparsity", "parameters")}}
        columns = {**figures, "metric_name": "wer", "rec_perf": wer, "anc_perf": anchor["wer"],
                   "perf_delta": wer - anchor["wer"], "eval_time": seconds,
                   "eval_time_ratio_to_fp32_s": seconds / anchor["seconds"]}
        return CellOutcome(metrics, columns)

    def run_split_cell(self, cell: Cell, path: Path) -> CellOutcome:
        """The derived model's part 1 before the FP32 part 2 at the cell's split (harness.derive.device_part1)."""
        from harness.derive import model_figures
        from harness.derive.device_part1 import run_device_part1
        from harness.detection.pipeline import per_class_columns

        detector, dataset = self.detector_and_data(cell)
        result = run_device_part1(detector, dataset, path, int(cell["split"]), cell["device"],
                                  int(self.matrix["latency_repeat"]))
        with tempfile.TemporaryDirectory(prefix="derive-part1-") as folder:
            part1_file = Path(folder) / "part1.onnx"
            part1_file.write_bytes(result.part1_bytes)
            figures = model_figures(part1_file)
        reference, scores = self.fp32_split_reference(cell), result.scores
        dtypes = sorted({dtype for dtype, _ in result.crossing.values()})
        self._checks[cell.id] = {"file_size": len(result.part1_bytes), "output_nmse": None, "crossing_dtypes": dtypes,
                                 "cut_agrees": result.cut_agrees, "fp32_reference": reference}
        metrics = {"calc_map": scores["calc_map"], **{k: figures[k] for k in
                                                       ("file_bytes", "zlib_bytes", "sparsity", "parameters", "nodes")}}
        columns = {**figures, "metric_name": "calc_map", "rec_perf": scores["calc_map"], "anc_perf": reference,
                   "perf_delta": scores["calc_map"] - reference, "map_voc": scores["voc"],
                   "map_coco_AP": scores["AP"], **per_class_columns(scores, dataset.ground_truth),
                   "images": len(dataset.image_ids()), "fp32_part1_bytes": result.fp32_part1_size,
                   "cut_bytes": sum(nbytes for _, nbytes in result.crossing.values()), "cut_dtypes": ";".join(dtypes),
                   "part1_latency_ms": result.part1_ms,
                   "part1_latency_ratio_to_fp32_ms": result.part1_ms / result.fp32_part1_ms}
        return CellOutcome(metrics, columns)

    def fp32_split_reference(self, cell: Cell) -> float:
        """calc_map of the unsplit FP32 model at the split cells' optimisation level (split = unsplit there)."""
        from harness.detection.inference import detect_images, session_runner
        from harness.detection.part1 import OPTIMIZATION
        from harness.detection.pipeline import score_rows

        key = (cell["model_name"], cell["data_set_name"], cell["device"], "split-reference")
        if key not in self._anchor:
            detector, dataset = self.detector_and_data(cell)
            runner = session_runner(detector.onnx_path, cell["device"], OPTIMIZATION)
            rows = [row for result in detect_images(detector, dataset, run=runner) for row in result.rows]
            self._anchor[key] = {"calc_map": score_rows(dataset.ground_truth, rows)["calc_map"]}
        return self._anchor[key]["calc_map"]

    def run_cell(self, cell: Cell) -> CellOutcome:
        from harness.derive import model_figures
        from harness.detection.pipeline import per_class_columns

        if self.is_asr(cell):
            return self.run_asr_cell(cell)
        if self.is_size(cell):
            return self.run_size_cell(cell)
        if cell.get("split") is not None:
            with tempfile.TemporaryDirectory(prefix="derive-") as folder:
                return self.run_split_cell(cell, self.derive(cell, Path(folder))[0])
        anchor = self.anchor(cell)
        _, dataset = self.detector_and_data(cell)
        with tempfile.TemporaryDirectory(prefix="derive-") as folder:
            path, reference = self.derive(cell, Path(folder))
            figures = model_figures(path)
            scores, latency = (anchor["scores"], anchor["latency_ms"]) if cell["method"] == FP32 \
                else self.evaluate(cell, path)
            self._checks[cell.id] = {"file_size": path.stat().st_size,
                                     "output_nmse": self.output_nmse(cell, path, reference)
                                     if cell["method"] in QUANTIZED else None}
        metrics = {"calc_map": scores["calc_map"], **{k: figures[k] for k in
                                                       ("file_bytes", "zlib_bytes", "sparsity", "parameters", "nodes")}}
        columns = {**figures, "metric_name": "calc_map", "rec_perf": scores["calc_map"],
                   "anc_perf": anchor["scores"]["calc_map"], "perf_delta": scores["calc_map"] - anchor["scores"]["calc_map"],
                   "map_voc": scores["voc"], "map_coco_AP": scores["AP"], "latency_ms": latency,
                   "latency_ratio_to_fp32_ms": latency / anchor["latency_ms"],
                   **per_class_columns(scores, dataset.ground_truth), "images": len(dataset.image_ids())}
        return CellOutcome(metrics, columns)

    def output_nmse(self, cell: Cell, path: Path, reference: Path) -> list[float]:
        """Per output, the NMSE of the derived model's outputs to the FP32 model's (a re-trained one's: to the
        re-trained float model's) over the calibration images;
        for a graph with its post-processing inside, of the network's last layers' outputs, where that starts
        (harness.derive.quantize.network_outputs: detection lists reorder with any change of a score)."""
        from harness.derive.quantize import network_outputs, outputs_nmse
        from harness.detection.detectors import InGraphHead

        detector, _ = self.detector_and_data(cell)
        tensors = network_outputs(Path(detector.onnx_path)) if isinstance(detector.head, InGraphHead) else None
        return outputs_nmse(reference, path, self.calibration(cell, max(int(cell["level"]), 8)), tensors)

    def check_cell(self, cell: Cell, outcome: CellOutcome) -> None:
        columns, checks = outcome.columns, self._checks[cell.id]
        assert columns["file_bytes"] == checks["file_size"], "file_bytes is not the file's size"
        if self.is_size(cell):
            fp32 = checks["fp32"]
            if cell["method"] == "dynamic":  # int8 weights: about a quarter of the float file
                assert columns["file_bytes"] < 0.3 * fp32["file_bytes"] and columns["quantized_nodes"] > 0
            elif cell["method"] == FP32:
                assert columns["file_bytes"] > 4 * fp32["parameters"]  # float32 weights, 4 bytes each
            return
        if self.is_asr(cell):
            if cell["method"] == "dynamic":  # int8 weights of the GRU and Linear layers: under half the float file
                assert columns["quantized_modules"] > 0 and columns["file_bytes"] < 0.5 * checks["fp32_file_bytes"]
            else:
                assert columns["rec_perf"] == columns["anc_perf"] and columns["quantized_modules"] == 0
            return
        if cell.get("split") is not None:
            # what crosses the cut is float (a QDQ part 1 dequantizes its last activations): the coders' input
            assert checks["crossing_dtypes"] == ["float32"], f"cut tensors {checks['crossing_dtypes']}"
            assert checks["cut_agrees"], "the derived part 1 differs from the derived model's own cut tensors"
            if cell["method"] == FP32:  # the FP32 model cut by names is split inference: equal to unsplit
                assert columns["rec_perf"] == checks["fp32_reference"], "FP32 split changed calc_map"
            return
        if cell["method"] == "prune-global":
            requested, weights = float(cell["level"]), columns["weights"]
            assert abs(columns["sparsity"] - requested) * weights <= 1, \
                f"sparsity {columns['sparsity']} of {weights} weights, requested {requested}"
        if cell["method"] == "prune-structured":
            # channel pruning at ratio r removes r of a layer's filters and r of the next layer's inputs: more
            # than r of the parameters go, and the file shrinks with them (dense weights, no zeros needed)
            from harness.derive import model_figures

            detector, _ = self.detector_and_data(cell)
            fp32 = model_figures(Path(detector.onnx_path))
            assert columns["parameters"] < (1 - float(cell["level"])) * fp32["parameters"], \
                f"{columns['parameters']} parameters left of {fp32['parameters']} at ratio {cell['level']}"
            assert columns["file_bytes"] < fp32["file_bytes"] and columns["sparsity"] < 0.01
        if checks["output_nmse"] is not None:
            # the accuracy-aware mode's own bound, checked here on the scenario's own count of the outputs' NMSE
            bound = float(self.matrix["aware_output_nmse_max" if cell["method"] == "qdq-aware"
                                      else "retrained_output_nmse_max" if cell.get("finetune")
                                      else "quantized_output_nmse_max"])
            against = "its re-trained float model" if cell.get("finetune") else "FP32"
            assert max(checks["output_nmse"]) <= bound, f"outputs NMSE {checks['output_nmse']} to {against} > {bound}"
        if cell["method"] == FP32:
            assert columns["rec_perf"] == columns["anc_perf"] and columns["sparsity"] < 0.01
