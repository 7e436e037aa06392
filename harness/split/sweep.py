"""Measuring split configurations (seed 001 §10.2.7, §10.3.7): per configuration the part model sizes, what
crosses the cut (raw and coded), the agreement of split with unsplit inference, and the latency of part 1 on a
*device* profile and of part 2 on a *network* profile (harness.split.profiles.LatencyProfile).

Latency KPIs per part (seed 10.2.7): session creation (``init_ms``), first inference (warm-up, ``first_ms``),
then ``repeat`` steady-state runs on the first input: median and 90th percentile. Memory: the peak resident set
above the level before the session was created, during creation (``init_peak_bytes``) and over creation and all
runs (``peak_bytes``), read from the kernel's high-water mark (see harness.memory.reset_peak_rss); None where
the kernel does not allow it. Every time is multiplied by the profile's declared slowdown factor.

Agreement: part 2 runs on the *decoded* cut tensors, so a coder's loss shows; ``max_abs_diff`` is the largest
absolute difference between those outputs and the unsplit model's outputs on the device profile, over every
output and input; ``lossless`` is ``max_abs_diff < 0.001`` (posenet_split_test.py, seed 10.2.8).
"""
from __future__ import annotations

import gc
import time
from dataclasses import dataclass, field
from typing import Mapping, Sequence

import numpy as np

from harness.coders import make_coder
from harness.split.delivery import ConfigCost
from harness.memory import peak_rss_since_reset, reset_peak_rss
from harness.split.profiles import LatencyProfile, profile_session
from harness.split.cut import part1_by_names
from harness.split.graph import ModelSource, load_model
from harness.split.layers import LayerSplitter, SplitConfig
from harness.split.plan import SplitPlanner
from harness.split.inputs import seeded_feeds
from harness.split.verify import combined_sha256, tensors_sha256

LOSSLESS_THRESHOLD = 0.001  # seed 001 §10.2.8
Feed = Mapping[str, np.ndarray]


@dataclass(frozen=True)
class PartTiming:
    """Latency and memory KPIs of one part on one profile (milliseconds, slowdown applied; bytes)."""

    init_ms: float = 0.0
    first_ms: float = 0.0
    median_ms: float = 0.0
    p90_ms: float = 0.0
    init_peak_bytes: int | None = 0
    peak_bytes: int | None = 0


@dataclass(frozen=True)
class CodedCut:
    """The cut tensors through one coder, and part 2's agreement with the unsplit model on the decoded data."""

    coder: str
    coded_bytes: int
    encode_ms: float
    decode_ms: float
    max_abs_diff: float
    lossless: bool
    outputs: list[dict[str, np.ndarray]] = field(repr=False, default_factory=list)
    part2_input_sha256: str = ""  # the decoded cut of every input, in input order


@dataclass(frozen=True)
class ConfigResult:
    """Everything measured for one configuration."""

    config: SplitConfig
    part1_model_bytes: int
    part2_model_bytes: int
    cut_tensors: list[dict]  # name, shape, dtype, bytes (measured on the first input)
    part1: PartTiming
    part2: PartTiming
    coded: dict[str, CodedCut]
    part1_sha256: str = ""  # part 1's cut of every input, in input order

    @property
    def intermediate_bytes(self) -> int:
        return sum(t["bytes"] for t in self.cut_tensors)

    def row(self, coder: str) -> dict:
        """The configuration's entry of the sweep JSON (``configs[i]``) for one coder spec."""
        coded = self.coded[coder]
        return {"k": self.config.k, "cut_tensors": self.cut_tensors, "intermediate_bytes": self.intermediate_bytes,
                "coded_bytes": coded.coded_bytes, "part1_model_bytes": self.part1_model_bytes,
                "part2_model_bytes": self.part2_model_bytes, "part1_ms": self.part1.median_ms,
                "part2_ms": self.part2.median_ms, "max_abs_diff": coded.max_abs_diff, "lossless": coded.lossless}

    def cost(self, coder: str) -> ConfigCost:
        """What the delivery model needs: medians and the coded bytes sent."""
        coded = self.coded[coder]
        return ConfigCost(self.config.k, self.part1.median_ms, coded.encode_ms, coded.coded_bytes, coded.decode_ms,
                          self.part2.median_ms)


def run_part(model: bytes, profile: LatencyProfile, feeds: Sequence[Feed], repeat: int
             ) -> tuple[PartTiming, list[dict[str, np.ndarray]]]:
    """Create a session of ``model`` on ``profile``, run every feed once and the first ``repeat`` more times
    (``repeat`` 0: the steady-state figures are the first inference's). An empty part (``b""``: k = 0 or
    k = N) passes its feed through in no time."""
    if not model:
        return PartTiming(), [dict(feed) for feed in feeds]
    gc.collect()  # sessions of the previous configuration must not hide in the baseline
    scale = profile.slowdown
    baseline = reset_peak_rss()
    start = time.perf_counter()
    session = profile_session(model, profile)
    init_ms = (time.perf_counter() - start) * 1e3
    init_peak = peak_rss_since_reset(baseline)
    names = [o.name for o in session.get_outputs()]
    inputs = [i.name for i in session.get_inputs()]
    outputs, first_ms = [], 0.0
    for position, feed in enumerate(feeds):
        start = time.perf_counter()
        values = session.run(names, {name: feed[name] for name in inputs})
        if position == 0:
            first_ms = (time.perf_counter() - start) * 1e3
        outputs.append(dict(zip(names, values)))
    steady = []
    for _ in range(repeat):
        start = time.perf_counter()
        session.run(names, {name: feeds[0][name] for name in inputs})
        steady.append((time.perf_counter() - start) * 1e3)
    steady = steady or [first_ms]  # repeat 0: the first inference is all there is
    peak = peak_rss_since_reset(baseline)
    del session
    timing = PartTiming(init_ms * scale, first_ms * scale, float(np.median(steady)) * scale,
                        float(np.percentile(steady, 90)) * scale, init_peak, peak)
    return timing, outputs


def max_abs_diff(reference: Sequence[Mapping[str, np.ndarray]], measured: Sequence[Mapping[str, np.ndarray]]) -> float:
    """Largest |a - b| over every output of every input (inf on a shape mismatch or a missing output)."""
    worst = 0.0
    for want, got in zip(reference, measured, strict=True):
        for name, a in want.items():
            b = got.get(name)
            if b is None or np.shape(a) != np.shape(b):
                return float("inf")
            if np.size(a):
                worst = max(worst, float(np.max(np.abs(np.asarray(a, np.float64) - np.asarray(b, np.float64)))))
    return worst


class SplitSweep:
    """The configurations of one model measured on given inputs and profiles.

    ``device_model``: a model derived from ``model`` for the device (quantized or pruned, seed 001 §5) whose part 1
    runs instead of the model's own, cut at the tensors each configuration's plan names (quantization renumbers
    nodes; harness.split.part1_by_names); part 2 stays the network's. Agreement is then measured against the
    unsplit *network* model, so ``max_abs_diff`` shows what the derived device anchor loses at each split, and
    k = N runs the derived model whole."""

    def __init__(self, model: ModelSource, inputs: Sequence[Feed], device: LatencyProfile,
                 network: LatencyProfile, repeat: int = 3, device_model: ModelSource | None = None) -> None:
        if not inputs:
            raise ValueError("a sweep needs at least one input")
        self.device_model = None if device_model is None else load_model(device_model)
        self.model = load_model(model)
        self.splitter = LayerSplitter(SplitPlanner(self.model))
        self.inputs = [dict(feed) for feed in inputs]
        self.device, self.network, self.repeat = device, network, repeat
        self.model_bytes = len(self.model.SerializeToString())
        _, self.reference = run_part(self.model.SerializeToString(), device, self.inputs, 0)

    @property
    def layers(self) -> int:
        return self.splitter.count

    def _code(self, spec: str, cuts: list[dict[str, np.ndarray]], part2: bytes) -> CodedCut:
        coder = make_coder(spec)
        start = time.perf_counter()
        data = coder.encode(cuts[0])
        encode_ms = (time.perf_counter() - start) * 1e3 * self.device.slowdown
        start = time.perf_counter()
        decoded_first = coder.decode(data)
        decode_ms = (time.perf_counter() - start) * 1e3 * self.network.slowdown
        decoded = [decoded_first] + [coder.decode(coder.encode(cut)) for cut in cuts[1:]]
        if coder.is_lossless and all(np.array_equal(cut[n], dec[n]) for cut, dec in zip(cuts, decoded) for n in cut):
            outputs = None  # bit-exact: part 2's outputs on the original cut apply
        else:
            _, outputs = run_part(part2, self.network, decoded, 0)
        return CodedCut(coder.spec, len(data), encode_ms, decode_ms, 0.0, True, outputs or [],
                        combined_sha256([tensors_sha256(dec) for dec in decoded]))

    def measure(self, config: SplitConfig, coders: Sequence[str] = ("raw",)) -> ConfigResult:
        """Sizes, timings and, per coder spec, coded size and agreement of one configuration."""
        part1, part2 = self.splitter.parts(config)
        if self.device_model is not None and config.all_on_device:
            part1 = self.device_model.SerializeToString()
        elif self.device_model is not None and not config.all_in_network:
            part1 = part1_by_names(self.device_model, config.plan).SerializeToString()
        part1_timing, cuts = run_part(part1, self.device, self.inputs, self.repeat)
        cuts = [{name: cut[name] for name in config.cut_names} for cut in cuts]
        part2_timing, outputs = run_part(part2, self.network, cuts, self.repeat)
        tensors = [{"name": name, "shape": list(array.shape), "dtype": str(array.dtype), "bytes": int(array.nbytes)}
                   for name, array in cuts[0].items()]
        coded = {}
        for spec in coders:
            result = self._code(spec, cuts, part2)
            final = result.outputs or outputs
            diff = max_abs_diff(self.reference, final)
            coded[result.coder] = CodedCut(result.coder, result.coded_bytes, result.encode_ms, result.decode_ms,
                                           diff, diff < LOSSLESS_THRESHOLD, final, result.part2_input_sha256)
        return ConfigResult(config, len(part1), len(part2), tensors, part1_timing, part2_timing, coded,
                            combined_sha256([tensors_sha256(cut) for cut in cuts]))


def seeded_inputs(model: ModelSource, count: int = 1, seed: int = 0,
                  shapes: Mapping[str, Sequence[int]] | None = None) -> list[dict[str, np.ndarray]]:
    """Seeded inputs for any model (harness.split.inputs.seeded_feeds): standard-normal floats (uniform integers
    0..9 for integer inputs) of the declared static shape, or of ``shapes[name]`` where a dimension is symbolic."""
    return seeded_feeds(SplitPlanner(model), count, seed, shapes)
