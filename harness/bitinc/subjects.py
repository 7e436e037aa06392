"""The models bit-incremental delivery runs on: a state_dict of numpy arrays plus, where the suite has one, an
evaluation of any state_dict of the same architecture (registered in :data:`SUBJECTS`).

* ``asr_small``: the ASR task of its matrix/asr.yaml entry (:class:`harness.asr.task.AsrTask`, the same task the
  ASR scenario evaluates: ``get_model(pre_trained=True)``, ``get_perf(model)``), WER in percent (lower is
  better) on the embedded synthetic set.
* ``ssd_small``: every initializer of harness/assets/ssd_small.onnx; the state is written back into the graph
  in memory and run over ``shapes50_selected`` through the one detector loop
  (:func:`harness.detection.inference.detect_images`), calc_map in percent.
* ``vgg16_chest``, ``resnet18_voc``, ``mobilenet_v2_voc``, ``vgg16``: seeded structures
  (:mod:`harness.models.classifiers`), no evaluation (no trained weights or data sets are shipped).

Evaluations return (value in percent, seconds).
"""
from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Mapping

import numpy as np

from harness.registry import Registry

State = dict[str, np.ndarray]
Evaluate = Callable[[Mapping[str, np.ndarray]], tuple[float, float]]


@dataclass
class Subject:
    name: str
    state: State
    data_set_name: str
    metric_name: str | None = None  # "wer" | "calc_map"; None: no evaluation here
    higher_is_better: bool | None = None
    evaluate: Evaluate | None = None
    load_seconds: float = 0.0  # §10.6.8 step 1: loading the model (and its evaluation data)


SubjectFactory = Callable[[Path | None, str], Subject]
SUBJECTS: Registry[SubjectFactory] = Registry("bit-incremental model")


def load_subject(name: str, data_dir: Path | None = None, device: str = "cpu") -> Subject:
    start = time.perf_counter()
    subject = SUBJECTS.get(name)(data_dir, device)
    subject.load_seconds = time.perf_counter() - start
    return subject


@SUBJECTS.register("asr_small")
def asr_small(data_dir: Path | None = None, device: str = "cpu") -> Subject:
    from harness.asr.task import asr_models, build_task, data_set_name
    from harness.coders.model_state import load_decoded, state_dict_arrays

    models = asr_models()
    task = build_task("asr_small", models, device, data_dir)
    reason = task.missing_reason()
    if reason:
        raise FileNotFoundError(reason)
    template = task.get_model(pre_trained=True)

    def evaluate(state: Mapping[str, np.ndarray]) -> tuple[float, float]:
        wer, seconds = task.get_perf(load_decoded(template, dict(state)), "test")
        return 100.0 * wer, seconds

    return Subject("asr_small", state_dict_arrays(template), data_set_name(models["asr_small"]), "wer", False,
                   evaluate)


@SUBJECTS.register("ssd_small")
def ssd_small(data_dir: Path | None = None, device: str = "cpu") -> Subject:
    import onnx
    from onnx import numpy_helper

    from harness.detection.datasets import DATASETS
    from harness.detection.detectors import DETECTORS

    detector = DETECTORS.get("ssd_small")(data_dir)
    dataset = DATASETS.get("shapes50_selected")(data_dir)
    model = onnx.load(str(detector.onnx_path))
    state = {init.name: numpy_helper.to_array(init) for init in model.graph.initializer}

    def evaluate(new_state: Mapping[str, np.ndarray]) -> tuple[float, float]:
        return detection_calc_map(_with_initializers(model, new_state), detector, dataset, device)

    return Subject("ssd_small", state, dataset.name, "calc_map", True, evaluate)


def _with_initializers(model, state: Mapping[str, np.ndarray]) -> bytes:
    """The serialised ONNX model with its initializers replaced by ``state`` (same names, shapes, dtypes)."""
    from onnx import numpy_helper

    copy = type(model)()
    copy.CopyFrom(model)
    names = [init.name for init in copy.graph.initializer]
    if sorted(names) != sorted(state):
        raise ValueError(f"state does not hold the model's initializers (first difference: "
                         f"{sorted(set(names) ^ set(state))[:1]})")
    for index, name in enumerate(names):
        copy.graph.initializer[index].CopyFrom(numpy_helper.from_array(np.asarray(state[name]), name))
    return copy.SerializeToString()


def detection_calc_map(model_bytes: bytes, detector, dataset, device: str = "cpu") -> tuple[float, float]:
    """calc_map (percent) of an in-memory ONNX detector over ``dataset``, and the seconds it took."""
    from harness.detection.inference import detect_images, runner_of
    from harness.metrics import score
    from harness.metrics.coco_data import parse_detections
    from harness.runtime import make_session

    start = time.perf_counter()
    session = make_session(model_bytes, device=device, optimization="extended")
    rows = [row for image in detect_images(detector, dataset, run=runner_of(session))
            for row in image.rows]
    truth = dataset.ground_truth
    value = score("calc_map", truth, parse_detections(rows, truth, "bit-incremental detections"))["mAP"]
    return float(value), time.perf_counter() - start


def _classifier(name: str) -> SubjectFactory:
    def factory(data_dir: Path | None = None, device: str = "cpu") -> Subject:
        from harness.models.classifiers import build_classifier
        from harness.coders.model_state import state_dict_arrays

        return Subject(name, state_dict_arrays(build_classifier(name)), "none")

    factory.__doc__ = f"Seeded {name} (harness.models.classifiers), structure only."
    return factory


for _name in ("vgg16_chest", "resnet18_voc", "mobilenet_v2_voc", "vgg16"):
    SUBJECTS.register(_name)(_classifier(_name))
