"""One-pass feature extraction: the tensors crossing any number of cuts, from ONE run of the full model.

The cut tensors are added as extra graph outputs of the full model, so one session run yields the intermediate
data of every requested split point (seed 000 studies 7 per model) instead of one part-1 run per split point.
"""
from __future__ import annotations

from typing import Mapping, Sequence

import numpy as np
import onnx

from harness.runtime import make_session
from harness.split.graph import ModelSource, load_model
from harness.split.plan import SplitPlan, SplitPlanner


def with_extra_outputs(model: onnx.ModelProto, plans: Sequence[SplitPlan]) -> onnx.ModelProto:
    """A copy of ``model`` that also outputs every tensor crossing any of ``plans``."""
    augmented = onnx.ModelProto()
    augmented.CopyFrom(model)
    present = {o.name for o in augmented.graph.output}
    for plan in plans:
        for tensor in plan.cut:
            if tensor.name not in present:
                augmented.graph.output.append(tensor.type.value_info(tensor.name))
                present.add(tensor.name)
    return augmented


class FeatureExtractor:
    """Holds one session of the augmented full model; ``run(feed)`` gives every split point's cut tensors."""

    def __init__(self, model: ModelSource, split_indices: Sequence[int | SplitPlan], device: str = "cpu",
                 where: str = "before", pass_inputs: bool = False, optimization: str = "all") -> None:
        """``split_indices``: node indices (cut ``where``) or ready plans (keyed by their node index)."""
        planner = SplitPlanner(load_model(model))
        self.plans = {
            point.node_index if isinstance(point, SplitPlan) else point:
            point if isinstance(point, SplitPlan) else planner.plan(index=point, where=where, pass_inputs=pass_inputs)
            for point in split_indices
        }
        augmented = with_extra_outputs(planner.model, list(self.plans.values()))
        self.session = make_session(augmented.SerializeToString(), device=device, optimization=optimization)
        self.output_names = [o.name for o in self.session.get_outputs()]
        self.model_outputs = [o.name for o in planner.model.graph.output]

    def run(self, input_feed: Mapping[str, np.ndarray]) -> dict[int, dict[str, np.ndarray]]:
        """``{split index: {cut tensor name: array}}`` from one run; model outputs under ``self.last_outputs``."""
        values = dict(zip(self.output_names, self.session.run(self.output_names, dict(input_feed))))
        self.last_outputs = {name: values[name] for name in self.model_outputs}
        return {index: {name: values[name] for name in plan.cut_names} for index, plan in self.plans.items()}


def extract_features(model_path: ModelSource, input_feed: Mapping[str, np.ndarray], split_indices: Sequence[int],
                     device: str = "cpu") -> dict[int, dict[str, np.ndarray]]:
    """Cut tensors of every split index for one input, from a single run of the full model."""
    return FeatureExtractor(model_path, split_indices, device=device).run(input_feed)
