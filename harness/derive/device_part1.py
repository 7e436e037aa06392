"""A derived model as the device's part 1 (seed 001 §5): its part 1 cut at the tensors a split of the FP32 graph
names, before the network's FP32 part 2.

Quantization renumbers the nodes (QuantizeLinear/DequantizeLinear pairs appear), so the cut is found by the
FP32 cut tensors' names (harness.split.part1_by_names), which a QDQ graph keeps as the float outputs of the ops
it quantizes. Float crosses: the derived part 1's last activations as float32, what the feature coders and the
FP32 part 2 take. Both parts run at the split engine's bit-exact level (harness.detection.part1.OPTIMIZATION).
"""
from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np


@dataclass
class DevicePart1Result:
    scores: dict[str, Any]           # harness.detection.pipeline.score_rows of the split inference
    part1_bytes: bytes               # the derived part 1's serialised graph
    fp32_part1_size: int             # bytes of the FP32 part 1 at the same split
    crossing: dict[str, tuple[str, int]]  # cut tensor -> (dtype, bytes) of the last image
    part1_ms: float                  # median steady-state latency of the derived part 1 on the first image
    fp32_part1_ms: float             # the same for the FP32 part 1
    cut_agrees: bool                 # the derived part 1 gives the derived whole model's own cut tensors


def median_ms(session: Any, feed: dict[str, np.ndarray], repeat: int) -> float:
    """Median of ``repeat`` steady-state runs of ``session`` on ``feed`` (after one warm-up run), in ms."""
    feed = {i.name: feed[i.name] for i in session.get_inputs()}
    session.run(None, feed)
    seconds = []
    for _ in range(int(repeat)):
        start = time.perf_counter()
        session.run(None, feed)
        seconds.append(time.perf_counter() - start)
    return float(np.median(seconds)) * 1e3


def run_device_part1(detector: Any, dataset: Any, derived: Path, index: int, device: str = "cpu",
                     repeat: int = 20) -> DevicePart1Result:
    """Split inference of ``detector`` on ``dataset`` with the derived model's part 1 at FP32 split ``index``."""
    from harness.detection.inference import detect_images
    from harness.detection.part1 import OPTIMIZATION
    from harness.detection.pipeline import score_rows
    from harness.runtime import make_session
    from harness.split import SplitPlanner, load_model, part1_by_names, split_model, with_extra_outputs

    planner = SplitPlanner(str(detector.onnx_path))
    plan = planner.plan(index=int(index))
    fp32_part1, fp32_part2 = split_model(planner.model, plan)
    device_part1 = part1_by_names(derived, plan)
    names = list(plan.cut_names)
    sessions = {name: make_session(model.SerializeToString(), device=device, optimization=OPTIMIZATION)
                for name, model in (("device", device_part1), ("fp32", fp32_part1), ("part2", fp32_part2))}
    crossing: dict[str, tuple[str, int]] = {}

    def run(feed: dict[str, np.ndarray]) -> list[np.ndarray]:
        cut = dict(zip(names, sessions["device"].run(names, feed)))
        crossing.update({name: (str(value.dtype), int(value.nbytes)) for name, value in cut.items()})
        return sessions["part2"].run(None, {**cut, **{k: v for k, v in feed.items() if k in plan.raw_inputs}})

    rows = [row for result in detect_images(detector, dataset, run=run) for row in result.rows]
    feed = detector.preprocess(dataset.read_image(dataset.image_ids()[0]))
    whole = make_session(with_extra_outputs(load_model(derived), [plan]).SerializeToString(), device=device,
                         optimization=OPTIMIZATION)
    agrees = all(np.array_equal(a, b) for a, b in zip(sessions["device"].run(names, feed), whole.run(names, feed)))
    return DevicePart1Result(score_rows(dataset.ground_truth, rows), device_part1.SerializeToString(),
                             len(fp32_part1.SerializeToString()), crossing,
                             median_ms(sessions["device"], feed, repeat), median_ms(sessions["fp32"], feed, repeat),
                             agrees)
