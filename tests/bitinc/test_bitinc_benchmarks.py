"""Bit-incremental delivery of the seed's classifiers (seeded weights): bitstream sizes and the §10.6.8 timings
of every stream, as pytest-benchmark extra_info. Excluded from the default run (NNCodec codes about 0.1-0.3 M
parameters per second on one core: mobilenet_v2_voc takes ~1 min, resnet18_voc ~5, vgg16_chest ~8):

    pytest tests/bitinc/test_bitinc_benchmarks.py -m benchmark --benchmark-json=bitinc.json
"""
from __future__ import annotations

import pytest

from harness.bitinc.delivery import Server, UpdateMode
from harness.bitinc.pipeline import deliver
from harness.bitinc.subjects import load_subject

pytestmark = [pytest.mark.bitinc, pytest.mark.benchmark]

CLASSIFIERS = ["mobilenet_v2_voc", "resnet18_voc", "vgg16_chest"]
MODES = ["exact", "lossy:qp=-42"]


@pytest.fixture(scope="module", params=CLASSIFIERS)
def server(request) -> tuple[str, Server]:
    subject = load_subject(request.param)
    return request.param, Server(subject.state, 16)


@pytest.mark.parametrize("mode", MODES)
def test_classifier_delivery_8_to_16(benchmark, server, mode):
    name, shared = server
    result = benchmark.pedantic(deliver, args=(shared, 8, 16, UpdateMode.parse(mode)), rounds=1, iterations=1)
    sizes = result.sizes()
    benchmark.extra_info.update({"model": name, "update": mode, **{f"{k}_bytes": v for k, v in sizes.items()},
                                 **{f"{k}_startup_s": t.startup for k, t in result.timing.items()},
                                 **{f"{k}_encode_s": t.encode for k, t in result.timing.items()},
                                 "parameters": sum(t.codes.size for t in shared.codes.values())})
    assert sizes["low"] < sizes["high"]
    assert result.exact_match() == (mode == "exact")
