"""Encode/decode throughput per coder (MB/s of float32 input) on the two feature-map sizes of the issue:
1x256x75x75 (ssd_resnet split point 10, 5.76 MB) and 1x1024x38x38. Excluded from the default run; run with
``pytest tests/coders/test_benchmarks.py -m benchmark --benchmark-only``."""
from __future__ import annotations

import numpy as np
import pytest

from harness.coders import decode_any, make_coder

from harness.datasets.relu_features import relu_features

pytestmark = [pytest.mark.coders, pytest.mark.benchmark]

SHAPES = {"1x256x75x75": (1, 256, 75, 75), "1x1024x38x38": (1, 1024, 38, 38)}
SPECS = ["raw", "fp16", "qlayer:bits=8", "qlayer:bits=8,level=6", "qlayer:bits=12", "qlayer:bits=8,lossless=png",
         "nncodec:qp=-38", "nncodec:qp=-26", "nncodec:qp=0",
         # seed 002's lossy feature coding (Q-layer + tiling + HEVC intra)
         "hevc:qp=22,bits=8", "hevc:qp=37,bits=8", "hevc:qp=27,bits=10", "hevc:lossless=1,bits=8"]
ROUNDS = 3


@pytest.fixture(scope="module", params=list(SHAPES))
def tensor(request) -> tuple[str, np.ndarray]:
    return request.param, relu_features(SHAPES[request.param])


def _record(benchmark, label: str, spec: str, array: np.ndarray, operation: str, size: int) -> None:
    mean = benchmark.stats.stats.mean
    benchmark.extra_info.update({"coder": make_coder(spec).spec, "shape": label, "operation": operation,
                                 "input_mb": array.nbytes / 1e6, "rec_size": size,
                                 "mb_per_s": array.nbytes / 1e6 / mean})


@pytest.mark.parametrize("spec", SPECS)
def test_encode_throughput(benchmark, spec, tensor):
    label, array = tensor
    coder = make_coder(spec)
    data = benchmark.pedantic(coder.encode, args=({"features": array},), rounds=ROUNDS, iterations=1,
                              warmup_rounds=1)
    _record(benchmark, label, spec, array, "encode", len(data))
    assert len(data) > 0


@pytest.mark.parametrize("spec", SPECS)
def test_decode_throughput(benchmark, spec, tensor):
    label, array = tensor
    data = make_coder(spec).encode({"features": array})
    decoded = benchmark.pedantic(decode_any, args=(data,), rounds=ROUNDS, iterations=1, warmup_rounds=1)
    _record(benchmark, label, spec, array, "decode", len(data))
    assert decoded["features"].shape == array.shape
