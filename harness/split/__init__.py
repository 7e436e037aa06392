"""ONNX split engine: cut a model at a node (index or name, before/after), build and check both parts, extract
the intermediate data of many split points in one pass, verify split against unsplit inference."""
from harness.split.cut import part1_by_names, part_file_names, save_model_atomic, split_model
from harness.split.features import FeatureExtractor, extract_features, with_extra_outputs
from harness.split.graph import SplitError, TensorType, load_model
from harness.split.plan import CutTensor, SplitPlan, SplitPlanner, find_node, plan_split
from harness.split.verify import (
    OPTIMIZATION_LEVELS, OutputAgreement, compare_outputs, run_split, session, verify_split,
)

__all__ = [
    "OPTIMIZATION_LEVELS", "CutTensor", "FeatureExtractor", "OutputAgreement", "SplitError", "SplitPlan",
    "SplitPlanner", "TensorType", "compare_outputs", "extract_features", "find_node", "load_model",
    "part1_by_names", "part_file_names", "plan_split", "run_split", "save_model_atomic", "session", "split_model",
    "verify_split", "with_extra_outputs",
]
