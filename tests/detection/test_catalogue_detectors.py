"""Detectors are catalogue data: a model entry's ``detector`` block (references/assets.yaml) declares its head,
input, pre-processing and categories; a member's own detector is one such entry and no code."""
from __future__ import annotations

import shutil

import numpy as np
import pytest
import yaml
from hypothesis import given, settings
from hypothesis.extra import numpy as hnp

from harness.assetstore.manifest import load_manifest
from harness.datasets.synthetic_shapes import generate_sample
from harness.detection.detectors import DETECTORS, catalogue_detector, detector_spec
from harness.detection.preprocess import ImagePreprocess
from harness.detection.ssd.preprocess import preprocess as training_preprocess
from harness.runtime import make_session

IN_GRAPH = {"head": "in_graph", "preprocess": {"scale": 255, "layout": "CHW"}}


@settings(max_examples=25, deadline=None)
@given(image=hnp.arrays(np.uint8, (128, 128, 3)))
def test_declared_ssd_small_preprocessing_is_the_training_one_bit_for_bit(image):
    # the training script's hand-written normalisation is the independent reference
    feed = DETECTORS.get("ssd_small")(None).preprocess(image)["image"]
    assert feed.dtype == np.float32 and feed.tobytes() == training_preprocess(image).tobytes()


def test_resize_applies_to_other_sizes_only():
    declared = ImagePreprocess.from_data({"resize": 16, "layout": "NCHW"}, "t")
    assert declared(np.zeros((16, 16, 3), np.uint8)).shape == (1, 3, 16, 16)
    assert declared(np.full((40, 24, 3), 255, np.uint8)).shape == (1, 3, 16, 16)
    assert np.all(declared(np.full((40, 24, 3), 255, np.uint8)) == 1.0)


def test_every_catalogued_detector_is_registered():
    declared = {a.name for a in load_manifest() if a.detector is not None}
    assert {"ssd_small", "ssd_small_cat90", "retinanet_small", "ssd_resnet", "retinanet"} <= declared
    assert declared <= set(DETECTORS.names())
    assert detector_spec("ssd_small_cat90")["base_model"] == "ssd_small"
    assert DETECTORS.get("ssd_small_cat90")(None).base_model == "ssd_small"


def _member_manifest(tmp_path, detector):
    entry = {"name": "member_rn", "kind": "model", "origin": "user-provided", "root": "data_dir",
             "path": "models/member_rn.onnx", "obtain": "the member's own export", "detector": detector}
    manifest = tmp_path / "assets.yaml"
    manifest.write_text(yaml.safe_dump({"assets": [entry]}))
    return manifest


def _detections(detector, image):
    session = make_session(str(detector.onnx_path))
    outputs = session.run(None, detector.preprocess(image))
    return detector.detections(outputs, image_id=1, width=image.shape[1], height=image.shape[0])


def test_a_members_detector_is_one_catalogue_entry(tmp_path):
    data = tmp_path / "data"
    (data / "models").mkdir(parents=True)
    shipped = DETECTORS.get("retinanet_small")(None)
    shutil.copy(shipped.onnx_path, data / "models" / "member_rn.onnx")
    image = generate_sample(2024, 3).image
    member = catalogue_detector("member_rn", data, _member_manifest(tmp_path, IN_GRAPH))
    assert member.origin == "user-provided" and member.input_name == "images"
    expected = _detections(shipped, image)
    assert expected and _detections(member, image) == expected
    # the declared pre-processing is what runs: values in [0, 255] instead of [0, 1] change the detections
    skewed = catalogue_detector("member_rn", data, _member_manifest(tmp_path, {**IN_GRAPH, "preprocess": {"scale": 1,
                                                                                                       "layout": "CHW"}}))
    assert _detections(skewed, image) != expected


@pytest.mark.parametrize("block, message", [
    ({**IN_GRAPH, "head": "yolo"}, "detector head 'yolo' is not one of ssd, in_graph"),
    ({**IN_GRAPH, "colour": "rgb"}, "detector key.* colour unknown"),
    ({"head": "ssd", "preprocess": {}}, "an ssd head needs default_boxes"),
    ({**IN_GRAPH, "preprocess": {"mean": [0.5, 0.5]}}, "preprocess mean must be 3 numbers"),
    ({**IN_GRAPH, "preprocess": {"layout": "NHWC"}}, "layout 'NHWC' is not one of NCHW, CHW"),
    ({**IN_GRAPH, "categories": "imagenet"}, "categories 'imagenet' is not a list"),
])
def test_a_malformed_detector_block_names_the_entry_and_the_key(tmp_path, block, message):
    data = tmp_path / "data"
    (data / "models").mkdir(parents=True)
    shutil.copy(DETECTORS.get("retinanet_small")(None).onnx_path, data / "models" / "member_rn.onnx")
    with pytest.raises(ValueError, match=message) as refused:
        catalogue_detector("member_rn", data, _member_manifest(tmp_path, block))
    assert "member_rn" in str(refused.value)
