"""Encode/decode throughput of the ``hevc`` feature coder (MB/s of float32 input) on the two feature-map sizes
of the coder benchmarks, at seed 002's QPs. Excluded from the default run:
``pytest tests/coders/test_hevc_benchmarks.py -m benchmark --benchmark-only``."""
from __future__ import annotations

import pytest

from harness.coders import decode_any, make_coder

from .test_benchmarks import ROUNDS, _record, tensor  # noqa: F401 - the shared tensor fixture

pytestmark = [pytest.mark.coders, pytest.mark.benchmark]

SPECS = ["hevc:qp=22,bits=8", "hevc:qp=37,bits=8", "hevc:qp=27,bits=10", "hevc:lossless=1,bits=8"]


@pytest.mark.parametrize("spec", SPECS)
def test_hevc_encode_throughput(benchmark, spec, tensor):  # noqa: F811
    label, array = tensor
    coder = make_coder(spec)
    data = benchmark.pedantic(coder.encode, args=({"features": array},), rounds=ROUNDS, iterations=1,
                              warmup_rounds=1)
    _record(benchmark, label, spec, array, "encode", len(data))
    assert len(data) > 0


@pytest.mark.parametrize("spec", SPECS)
def test_hevc_decode_throughput(benchmark, spec, tensor):  # noqa: F811
    label, array = tensor
    data = make_coder(spec).encode({"features": array})
    decoded = benchmark.pedantic(decode_any, args=(data,), rounds=ROUNDS, iterations=1, warmup_rounds=1)
    _record(benchmark, label, spec, array, "decode", len(data))
    assert decoded["features"].shape == array.shape
