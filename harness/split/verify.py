"""Split against unsplit inference on the same input: per model output, max |a-b| and NMSE.

NMSE = sum((a-b)^2) / sum(a^2), the measure of seed 001 §10.3.9.1 (split and unsplit RetinaNet agree with
NMSE < 1e-5 on 99.25 % of frames).
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Mapping, Sequence

import numpy as np
import onnxruntime as ort

from harness.runtime import OPTIMIZATION_LEVELS, make_session  # noqa: F401 - re-exported by harness.split
from harness.split.cut import split_model
from harness.split.graph import ModelSource, load_model
from harness.split.plan import SplitPlan


@dataclass(frozen=True)
class OutputAgreement:
    name: str
    max_abs_diff: float
    nmse: float
    bit_exact: bool


def tensors_sha256(tensors: Mapping[str, np.ndarray]) -> str:
    """SHA-256 of named tensors: each name, dtype, shape and little-endian C-order bytes, in name order. Equal
    digests mean bit-identical tensors on any machine (CompressAI-Vision records the digest of the decoded
    features that enter part 2 for the same reason: two parties find where their pipelines part)."""
    digest = hashlib.sha256()
    for name in sorted(tensors):
        value = np.ascontiguousarray(tensors[name])
        value = value.astype(value.dtype.newbyteorder("<"), copy=False)
        digest.update(f"{name}|{value.dtype.str}|{'x'.join(map(str, value.shape))}|".encode())
        digest.update(value.tobytes())
    return digest.hexdigest()


def combined_sha256(digests: Sequence[str]) -> str:
    """One digest of per-image digests in the given (dataset) order, whatever the sharding that made them."""
    return hashlib.sha256("\n".join(digests).encode()).hexdigest()


def squared_error(reference: np.ndarray, other: np.ndarray) -> tuple[float, float]:
    """(sum((other - reference)^2), sum(reference^2)) in float64: the two sums of an NMSE. They add up over
    tensors and images, so a sharded run sums them (in image order) before the one division of :func:`nmse`."""
    ref = np.asarray(reference).astype(np.float64)
    diff = np.asarray(other).astype(np.float64) - ref
    return float(np.sum(diff * diff)), float(np.sum(ref * ref))


def padded_squared_error(reference: np.ndarray, other: np.ndarray) -> tuple[float, float]:
    """:func:`squared_error` of two outputs whose first axis may differ in length (a graph with its own NMS keeps
    as many detections as survive, sorted by score): the shorter is zero-padded to the longer along that axis,
    so a missing detection costs its reference energy and a spurious one its own; equal shapes are unchanged."""
    reference, other = np.asarray(reference), np.asarray(other)
    if reference.shape == other.shape or reference.ndim != other.ndim or reference.ndim == 0 \
            or reference.shape[1:] != other.shape[1:]:
        return squared_error(reference, other)
    length = max(reference.shape[0], other.shape[0])

    def pad(array: np.ndarray) -> np.ndarray:
        return np.pad(array.astype(np.float64), [(0, length - array.shape[0])] + [(0, 0)] * (array.ndim - 1))

    return squared_error(pad(reference), pad(other))


def nmse(error_sq: float, reference_sq: float) -> float:
    """Normalised MSE from the sums of :func:`squared_error`; 0 when both are 0, inf for error on silence."""
    if reference_sq == 0.0:
        return 0.0 if error_sq == 0.0 else float("inf")
    return error_sq / reference_sq


def compare_outputs(full: np.ndarray, split: np.ndarray, name: str = "") -> OutputAgreement:
    """Agreement of one output; a shape mismatch (e.g. a different number of detections) is infinitely bad."""
    a = np.asarray(full)
    b = np.asarray(split)
    if a.shape != b.shape:
        return OutputAgreement(name, float("inf"), float("inf"), False)
    if a.size == 0:
        return OutputAgreement(name, 0.0, 0.0, True)
    error, energy = squared_error(a, b)
    max_abs = float(np.max(np.abs(a.astype(np.float64) - b.astype(np.float64))))
    return OutputAgreement(name, max_abs, nmse(error, energy), bool(np.array_equal(a, b)))


# onnxruntime's "all" level adds x86 layout transforms (NCHWc) whose reorders differ on either side of a cut:
# last-bit differences (NMSE ~1e-13). Up to "extended" (constant folding, operator fusions) split inference is
# bit-exact, so verification can tell an engine error from float reassociation.
def session(model: bytes, device: str = "cpu", optimization: str = "all") -> ort.InferenceSession:
    """A session of one part (or the full model) at the given graph optimisation level."""
    return make_session(model, device=device, optimization=optimization)


def run_split(part1: bytes, part2: bytes, input_feed: Mapping[str, np.ndarray], device: str = "cpu",
              optimization: str = "all") -> dict:
    """Outputs of part 2 fed by part 1 (raw inputs passed on where part 2 declares them)."""
    first = session(part1, device, optimization)
    cut = dict(zip([o.name for o in first.get_outputs()], first.run(None, dict(input_feed))))
    second = session(part2, device, optimization)
    feed = {i.name: cut[i.name] if i.name in cut else input_feed[i.name] for i in second.get_inputs()}
    return dict(zip([o.name for o in second.get_outputs()], second.run(None, feed)))


def verify_split(model: ModelSource, plan: SplitPlan, input_feed: Mapping[str, np.ndarray],
                 device: str = "cpu", optimization: str = "all") -> dict[str, OutputAgreement]:
    """Full vs split inference of one input, per model output (``optimization``: onnxruntime graph level)."""
    model = load_model(model)
    part1, part2 = split_model(model, plan)
    full_session = session(model.SerializeToString(), device, optimization)
    full = dict(zip([o.name for o in full_session.get_outputs()], full_session.run(None, dict(input_feed))))
    split = run_split(part1.SerializeToString(), part2.SerializeToString(), input_feed, device, optimization)
    return {name: compare_outputs(full[name], split[name], name) for name in full}
