"""The input of the ``coders`` scenario (harness/scenarios/coders.py, whose generic cells gate the size and MSE
of every coder of matrix/coders.yaml against references/expected_metrics.json["coders"]): the seeded feature
map must stay the documented one, or the references no longer describe the same input."""
from __future__ import annotations

import hashlib

import numpy as np
import pytest

from harness.datasets.relu_features import SSD_SPLIT10_SHAPE

pytestmark = pytest.mark.coders

# sha256 of the feature map's bytes: if this changes, the generator (or numpy's RNG stream) changed and the
# references below no longer describe the same input
FEATURE_SHA256 = "42774c38d761e634"


def test_feature_map_is_the_documented_one(feature_map):
    assert feature_map.shape == SSD_SPLIT10_SHAPE and feature_map.dtype == np.float32
    assert feature_map.nbytes == 5_760_000  # 5.76 MB, the size seed 001 §10.3 gives for ssd_resnet node 10
    assert hashlib.sha256(feature_map.tobytes()).hexdigest()[:16] == FEATURE_SHA256
    assert 0.5 < float(np.mean(feature_map == 0)) < 0.9 and float(feature_map.min()) == 0.0
