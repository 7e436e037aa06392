"""One name, one artefact: detector names (trained models) and model-builder names (seeded architectures)
never coincide, and both are the names of references/assets.yaml."""
from __future__ import annotations

from harness.assetstore.paths import manifest_asset
from harness.detection.detectors import DETECTORS
from harness.models import MODELS, SEEDED_SUFFIX


def test_no_name_is_both_a_detector_and_a_model_builder():
    assert not set(DETECTORS.names()) & set(MODELS.names())


def test_user_detectors_and_seeded_builders_are_manifest_assets_of_their_origin():
    assert manifest_asset("ssd_resnet").origin == "user-provided"
    assert manifest_asset("ssd_small").origin == "shipped"
    for architecture in ("ssd_resnet", "retinanet"):
        assert architecture + SEEDED_SUFFIX in MODELS
        assert manifest_asset(architecture + SEEDED_SUFFIX).origin == "built"
        assert manifest_asset(architecture).origin == "user-provided"
