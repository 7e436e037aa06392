"""The seed's classifiers (harness.models.classifiers) against torchvision's published parameter counts and the
seed's figures; seeded weights are reproducible. Their bitstream sizes: test_bitinc_benchmarks.py."""
from __future__ import annotations

import pytest
import torch

from harness.models.classifiers import VGG16_CHEST_HIDDEN, build_classifier, structure

pytestmark = pytest.mark.bitinc

# torchvision's model documentation ("num_params"), ImageNet heads with 1000 outputs
TORCHVISION_PARAMS = {"vgg16": 138_357_544, "resnet18": 11_689_512, "mobilenet_v2": 3_504_872}


def _linear(inputs: int, outputs: int) -> int:
    return inputs * outputs + outputs


def test_vgg16_is_the_seeds_138m_parameter_527_8_mb_model():
    figures = structure("vgg16")
    assert figures["parameters"] == TORCHVISION_PARAMS["vgg16"] > 138_000_000
    assert round(figures["state_bytes"] / 2 ** 20, 1) == 527.8  # seed §10.6.4: "file size is 527.8 MB"


def test_heads_replaced_as_the_seed_describes():
    vgg_head = _linear(25088, 4096) + _linear(4096, 4096) + _linear(4096, 1000)
    expected = {
        "vgg16_chest": TORCHVISION_PARAMS["vgg16"] - vgg_head + _linear(25088, VGG16_CHEST_HIDDEN)
        + _linear(VGG16_CHEST_HIDDEN, 2),
        "resnet18_voc": TORCHVISION_PARAMS["resnet18"] - _linear(512, 1000) + _linear(512, 20),
        "mobilenet_v2_voc": TORCHVISION_PARAMS["mobilenet_v2"] - _linear(1280, 1000) + _linear(1280, 20),
    }
    for name, count in expected.items():
        figures = structure(name)
        assert figures["parameters"] == count, name
        assert figures["outputs"] == (2 if name == "vgg16_chest" else 20)


def test_seeded_weights_are_reproducible_and_depend_on_the_seed():
    a, b = build_classifier("mobilenet_v2_voc"), build_classifier("mobilenet_v2_voc")
    c = build_classifier("mobilenet_v2_voc", seed=1)
    state_a, state_b, state_c = a.state_dict(), b.state_dict(), c.state_dict()
    assert all(torch.equal(state_a[n], state_b[n]) for n in state_a)
    assert not torch.equal(state_a["classifier.1.weight"], state_c["classifier.1.weight"])
    with pytest.raises(ValueError, match="known"):
        build_classifier("vgg19")
