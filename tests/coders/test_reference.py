"""Compressed size and MSE of every seed codec setting on the deterministic 1x256x75x75 ReLU feature map,
checked against references/expected_metrics.json (key ``coders/<canonical spec>``), and written as results
rows. Record with ``--update-references`` after an intended change of a coder or of the container."""
from __future__ import annotations

import hashlib

import numpy as np
import pytest

from harness.coders import make_coder

from .conftest import QLAYER_BITS, SEED_QPS
from .features import SSD_SPLIT10_SHAPE

pytestmark = pytest.mark.coders

REFERENCE_SPECS = (["raw", "fp16"] + [f"qlayer:bits={b}" for b in QLAYER_BITS]
                   + [f"qlayer:bits={b},lossless=png" for b in QLAYER_BITS] + [f"nncodec:qp={qp}" for qp in SEED_QPS])

# sha256 of the feature map's bytes: if this changes, the generator (or numpy's RNG stream) changed and the
# references below no longer describe the same input
FEATURE_SHA256 = "42774c38d761e634"


def test_feature_map_is_the_documented_one(feature_map):
    assert feature_map.shape == SSD_SPLIT10_SHAPE and feature_map.dtype == np.float32
    assert feature_map.nbytes == 5_760_000  # 5.76 MB, the size seed 001 §10.3 gives for ssd_resnet node 10
    assert hashlib.sha256(feature_map.tobytes()).hexdigest()[:16] == FEATURE_SHA256
    assert 0.5 < float(np.mean(feature_map == 0)) < 0.9 and float(feature_map.min()) == 0.0


@pytest.mark.parametrize("spec", REFERENCE_SPECS)
def test_size_and_mse_match_the_reference(spec, coded_feature, feature_map, check_reference, record_result):
    coded = coded_feature(spec)
    canonical = make_coder(spec).spec
    record_result({"scenario_name": "coders", "data_set_name": "relu_features_1x256x75x75", "coder_name": canonical,
                   "anc_size": feature_map.nbytes, "rec_size": coded["rec_size"],
                   "compress_ratio": coded["rec_size"] / feature_map.nbytes, "mse": coded["mse"]})
    if make_coder(spec).lossless:
        assert coded["mse"] == 0.0
    check_reference(["coders", canonical], {"rec_size": coded["rec_size"], "mse": coded["mse"]})
