"""FP32 against INT8 and pruned inference of the embedded detector on the same input in one run, so the speed-up is
a ratio measured side by side (``extra_info['ratio_to_fp32']``). Excluded from the default run:
``pytest tests/derive/test_derive_benchmarks.py -m benchmark --benchmark-only``."""
from __future__ import annotations

import pytest

from harness.derive.prune import prune_global
from harness.derive.quantize import quantize, quantize_accuracy_aware
from harness.derive.structured import prune_structured
from harness.detection.detectors import DETECTORS
from harness.runtime import make_session

pytestmark = [pytest.mark.derive, pytest.mark.benchmark]
MEANS: dict[str, float] = {}


@pytest.fixture(scope="module")
def derived(tmp_path_factory):
    from harness.datasets.synthetic_shapes import generate_sample

    detector = DETECTORS.get("ssd_small")(None)
    folder = tmp_path_factory.mktemp("derived")
    feeds = [detector.preprocess(generate_sample(7, i).image) for i in range(16)]
    return detector, feeds[0], {
        "fp32": detector.onnx_path,
        "qdq-static": quantize(detector.onnx_path, folder / "q.onnx", "static", feeds).path,
        "dynamic": quantize(detector.onnx_path, folder / "d.onnx", "dynamic").path,
        "prune-global-0.3": prune_global(detector.onnx_path, folder / "p.onnx", 0.3).path,
        "prune-structured-0.3": prune_structured(detector.onnx_path, folder / "s.onnx", 0.3).path,
        "qdq-aware": quantize_accuracy_aware(detector.onnx_path, folder / "a.onnx", feeds, 0.002, "minmax").path,
    }


@pytest.mark.parametrize("method", ["fp32", "qdq-static", "dynamic", "prune-global-0.3", "prune-structured-0.3",
                                    "qdq-aware"])  # fp32 first: the base
def test_inference(benchmark, derived, method):
    _, feed, paths = derived
    session = make_session(str(paths[method]))
    benchmark.pedantic(session.run, args=(None, feed), rounds=30, iterations=1, warmup_rounds=3)
    MEANS[method] = benchmark.stats.stats.mean
    benchmark.extra_info.update({"method": method, "file_bytes": paths[method].stat().st_size,
                                 "ratio_to_fp32": MEANS[method] / MEANS["fp32"] if "fp32" in MEANS else None})
