"""Benchmarks (marker ``benchmark``, out of the default run): part-1 and part-2 inference of every PoseNet
configuration, on the device profile's CPU thread and on the network side (CPU all cores, or CUDA with
``--device cuda|all``). ``pytest -m benchmark tests/split --device all --benchmark-json out.json``; the machine
fingerprint (harness.environment) and the configuration are in each benchmark's ``extra_info``."""
from __future__ import annotations

from dataclasses import replace

import pytest

from harness.environment import describe_environment
from harness.split.profiles import load_profile, profile_session
from harness.split import SplitPlanner
from harness.split.layers import LayerSplitter
from harness.split.sweep import seeded_inputs

pytestmark = pytest.mark.benchmark
CONFIGS = range(32)  # seed 001 §10.2.6: 0:31 ... 31:0


@pytest.fixture(scope="module")
def posenet_splitter(posenet_file):
    return LayerSplitter(SplitPlanner(posenet_file)), seeded_inputs(posenet_file)[0]


@pytest.mark.parametrize("part", [1, 2])
@pytest.mark.parametrize("k", CONFIGS)
def test_posenet_part_inference(benchmark, posenet_splitter, device, part, k):
    splitter, feed = posenet_splitter
    config = splitter.config(k)
    model = splitter.parts(config)[part - 1]
    if not model:
        pytest.skip(f"configuration {k} has no part {part}")
    # part 1 is the device (one CPU thread); part 2 the network (all cores, or CUDA)
    profile = load_profile("device") if part == 1 else replace(load_profile("network"), providers=(device,))
    if part == 1 and device == "cuda":
        pytest.skip("part 1 runs on the device profile (CPU); its CUDA figure is part 2's")
    session = profile_session(model, profile)
    if part == 2:
        first = profile_session(splitter.parts(config)[0], load_profile("device")) if config.k else None
        values = first.run(config.cut_names, feed) if first else [feed[n] for n in config.cut_names]
        feed = dict(zip(config.cut_names, values))
    inputs = {i.name: feed[i.name] for i in session.get_inputs()}
    benchmark.extra_info.update(model="posenet_seeded", k=k, part=part, profile=profile.label(),
                                environment=describe_environment(), model_bytes=len(model))
    benchmark.pedantic(session.run, args=(None, inputs), rounds=5, iterations=1, warmup_rounds=1)
