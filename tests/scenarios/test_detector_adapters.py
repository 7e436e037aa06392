"""The real-asset detector path (user's ssd_resnet.onnx) exercised on the built architecture.

Trained weights cannot be downloaded here, so this checks the plumbing rather than accuracy: NVIDIA's
(B, 4, N) / (B, 81, N) outputs, the dboxes300_coco default boxes and the 80 -> 91 COCO label mapping.
"""
from __future__ import annotations

import numpy as np
import pytest

from harness.assetstore.paths import asset_path
from harness.detection.detectors import COCO80_TO_91, DETECTORS, AssetMissing, detector_spec
from harness.detection.ssd.default_boxes import DefaultBoxesConfig, default_boxes_xywh
from harness.models import model_path

pytestmark = pytest.mark.ssd


def test_the_catalogued_dboxes300_coco_has_nvidias_8732_boxes():
    config = DefaultBoxesConfig.from_json(detector_spec("ssd_resnet")["default_boxes"])
    assert len(default_boxes_xywh(config)) == 8732


def test_coco_label_map_covers_the_80_detection_classes():
    assert len(COCO80_TO_91) == 80 == len(set(COCO80_TO_91))
    assert COCO80_TO_91[0] == 1 and COCO80_TO_91[-1] == 90 and 12 not in COCO80_TO_91


def test_user_ssd_resnet_missing_says_what_to_provide(tmp_path):
    with pytest.raises(AssetMissing, match="convert_ssd300_to_onnx") as missing:
        DETECTORS.get("ssd_resnet")(tmp_path)
    # the reason names the asset and the manifest's place under --data-dir
    assert "'ssd_resnet'" in str(missing.value) and "models/ssd_resnet.onnx" in str(missing.value)
    with pytest.raises(AssetMissing, match="--data-dir"):
        DETECTORS.get("ssd_resnet")(None)


def test_user_ssd_resnet_runs_end_to_end_on_the_built_architecture(tmp_path):
    place = asset_path("ssd_resnet", tmp_path)
    place.parent.mkdir(parents=True)
    place.symlink_to(model_path("ssd_resnet_seeded"))
    detector = DETECTORS.get("ssd_resnet")(tmp_path)
    from harness.runtime import make_session

    session = make_session(str(detector.onnx_path))
    image = np.random.default_rng(0).integers(0, 256, size=(480, 640, 3), dtype=np.uint8)
    outputs = session.run(None, detector.preprocess(image))
    assert outputs[0].shape == (1, 4, 8732) and outputs[1].shape == (1, 81, 8732)
    rows = detector.detections(outputs, image_id=7, width=640, height=480)
    assert len(rows) <= 100
    for row in rows:
        x, y, w, h = row["bbox"]
        assert row["image_id"] == 7 and row["category_id"] in COCO80_TO_91
        assert 0 <= x <= x + w <= 640 + 1e-3 and 0 <= y <= y + h <= 480 + 1e-3 and 0.05 < row["score"] <= 1
