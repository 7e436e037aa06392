"""One-pass feature extraction on ssd_resnet: one run of the full model gives every split point's cut tensors,
identical to what each part 1 computes on its own; and its speed against one part-1 run per split point."""
from __future__ import annotations

import numpy as np
import pytest

from harness.split import FeatureExtractor, SplitPlanner, extract_features, session, split_model

pytestmark = pytest.mark.ssd

SEED000_SPLITS = [10, 30, 50, 70, 90, 110, 130]


@pytest.fixture(scope="module")
def planner() -> SplitPlanner:
    from harness.models import model_path

    return SplitPlanner(model_path("ssd_resnet_seeded"))


@pytest.fixture(scope="module")
def image() -> dict:
    return {"input": np.random.default_rng(11).random((1, 3, 300, 300), dtype=np.float32)}


@pytest.fixture(scope="module")
def part1_sessions(planner) -> dict:
    return {index: session(split_model(planner.model, planner.plan(index=index))[0].SerializeToString(),
                           optimization="extended")
            for index in SEED000_SPLITS}


def run_parts(part1_sessions: dict, feed: dict) -> dict:
    out = {}
    for index, part1 in part1_sessions.items():
        out[index] = dict(zip([o.name for o in part1.get_outputs()], part1.run(None, feed)))
    return out


def test_one_pass_equals_each_part_1(planner, image, part1_sessions, device):
    features = extract_features(planner.model, image, SEED000_SPLITS, device=device)
    expected = run_parts(part1_sessions, image)
    assert list(features) == SEED000_SPLITS
    for index in SEED000_SPLITS:
        plan = planner.plan(index=index)
        assert list(features[index]) == plan.cut_names
        for name, array in features[index].items():
            assert array.shape == tuple(dim for dim in plan.cut[plan.cut_names.index(name)].shape)
            # Different graphs (extra outputs) may fuse differently at the default level: NMSE, not bits.
            reference = expected[index][name].astype(np.float64)
            error = np.sum((array - reference) ** 2) / max(np.sum(reference ** 2), 1e-30)
            assert error <= 1e-10, (index, name, error)


def test_one_pass_runs_the_model_once(planner, image, monkeypatch):
    extractor = FeatureExtractor(planner.model, SEED000_SPLITS)
    calls = []
    original = extractor.session.run
    monkeypatch.setattr(extractor.session, "run", lambda *a, **k: calls.append(1) or original(*a, **k))
    features = extractor.run(image)
    assert len(calls) == 1 and set(features) == set(SEED000_SPLITS)
    assert set(extractor.last_outputs) == {"locs", "confs"}


@pytest.mark.benchmark(group="split-features")
def test_benchmark_one_pass_7_points(benchmark, planner, image):
    extractor = FeatureExtractor(planner.model, SEED000_SPLITS)
    benchmark.pedantic(extractor.run, args=(image,), rounds=5, warmup_rounds=1)


@pytest.mark.benchmark(group="split-features")
def test_benchmark_seven_part1_runs(benchmark, planner, image):
    sessions = {index: session(split_model(planner.model, planner.plan(index=index))[0].SerializeToString())
                for index in SEED000_SPLITS}
    benchmark.pedantic(run_parts, args=(sessions, image), rounds=5, warmup_rounds=1)
