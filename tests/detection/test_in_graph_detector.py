"""Detectors with their post-processing inside the graph (RetinaNet) and the embedded retinanet_small."""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from harness.detection.detectors import DETECTORS, InGraphHead, build_detector
from harness.split.verify import padded_squared_error, squared_error

pytestmark = pytest.mark.retinanet  # RetinaNet's detector interface: not the ssd main job's


def retinanet_detector(path):
    spec = {"head": "in_graph", "input": "images", "preprocess": {"scale": 255, "layout": "CHW"}}
    return build_detector("rn", path, spec, "trained", "test entry")


def _outputs(scores, labels):
    boxes = np.array([[1, 2, 11, 22], [5, 5, 9, 9], [0, 0, 4, 4]][: len(scores)], dtype=np.float32)
    return [boxes, np.array(scores, dtype=np.float32), np.array(labels, dtype=np.int64)]


def test_in_graph_head_keeps_detections_above_the_threshold_in_coco_form(tmp_path):
    detector = retinanet_detector(tmp_path / "m.onnx")
    rows = detector.detections(_outputs([0.9, 0.04, 0.3], [2, 3, 6]), image_id=7, width=128, height=128)
    assert [(r["category_id"], r["bbox"], r["score"]) for r in rows] == [
        (2, [1.0, 2.0, 10.0, 20.0], 0.9), (6, [0.0, 0.0, 4.0, 4.0], 0.3)]


def test_data_set_classes_convert_ids_and_drop_unannotated_classes(tmp_path):
    detector = retinanet_detector(tmp_path / "m.onnx").for_classes({2: 0, 6: 8})
    rows = detector.detections(_outputs([0.9, 0.8, 0.3], [2, 3, 6]), image_id=1, width=128, height=128)
    assert [r["category_id"] for r in rows] == [0, 8]


def test_boxes_whose_coded_corners_crossed_score_as_zero_area_false_positives(tmp_path):
    # a lossy-coded box tensor (cut after the NMS) with x1 < x0 and y1 < y0: kept, zero area, matches nothing
    boxes = np.array([[10, 10, 8, 30], [4, 9, 12, 5]], dtype=np.float32)
    outputs = [boxes, np.array([0.9, 0.8], dtype=np.float32), np.array([1, 1], dtype=np.int64)]
    rows = retinanet_detector(tmp_path / "m.onnx").detections(outputs, image_id=1, width=64, height=64)
    assert [r["bbox"] for r in rows] == [[10.0, 10.0, 0.0, 20.0], [4.0, 9.0, 8.0, 0.0]]
    from harness.metrics.calc_map_style import corner_iou, to_corners
    truth = to_corners([10.0, 10.0, 1.0, 20.0])  # the box it was before coding, about
    assert [corner_iou(truth, to_corners(r["bbox"])) for r in rows] == [0.0, 0.0]


def test_outputs_of_another_layout_are_refused():
    with pytest.raises(ValueError, match="not a graph with its post-processing inside"):
        InGraphHead().decode([np.zeros((1, 10, 4)), np.zeros((1, 10, 7))], 128, 128)


def test_in_graph_feed_is_chw_float_in_unit_range():
    image = np.arange(2 * 3 * 3, dtype=np.uint8).reshape(2, 3, 3) * 14
    feed = DETECTORS.get("retinanet_small")(None).preprocess(image)["images"]
    assert feed.shape == (3, 2, 3) and feed.dtype == np.float32
    assert np.array_equal(feed * 255, image.transpose(2, 0, 1).astype(np.float32))


def test_padding_rule_counts_missing_and_spurious_detections():
    reference = np.array([[1.0, 2.0], [3.0, 4.0]])
    # one detection lost: its whole energy is error
    assert padded_squared_error(reference, reference[:1]) == (25.0, 30.0)
    # one spurious detection: its own energy is error
    assert padded_squared_error(reference, np.vstack([reference, [[0.0, 2.0]]])) == (4.0, 30.0)


@settings(max_examples=30, deadline=None)
@given(st.lists(st.floats(-100, 100), min_size=1, max_size=12))
def test_padding_rule_is_the_plain_error_for_equal_shapes(values):
    a = np.array(values)
    b = a[::-1].copy()
    assert padded_squared_error(a, b) == squared_error(a, b)


def test_embedded_retinanet_small_has_the_5g_mag_interface():
    import onnx

    detector = DETECTORS.get("retinanet_small")(None)
    model = onnx.load(str(detector.onnx_path))
    assert [o.name for o in model.graph.output] == ["boxes", "scores", "labels"]
    assert [i.name for i in model.graph.input] == ["images"]

    def op_types(graph):  # NMS sits in an If branch (no box: empty output), so look into subgraphs too
        for node in graph.node:
            yield node.op_type
            for attribute in node.attribute:
                if attribute.g.node:
                    yield from op_types(attribute.g)

    assert {"NonMaxSuppression", "TopK", "Resize"} <= set(op_types(model.graph))


def test_user_retinanet_runs_on_the_built_architecture_and_maps_to_sfu_classes(tmp_path):
    """The real-asset path (the user's 5G-MAG retinanet.onnx under --data-dir) on the seeded ResNet-50 FPN build:
    same interface, COCO 91-id labels, converted to the SFU table's class ids (unannotated classes dropped)."""
    from harness.assetstore.paths import asset_path
    from harness.datasets.sfu_hw_objects import SFU_CLASSES
    from harness.detection.datasets import DATASETS
    from harness.models import model_path
    from harness.runtime import make_session

    place = asset_path("retinanet", tmp_path)
    place.parent.mkdir(parents=True)
    place.symlink_to(model_path("retinanet_seeded"))
    detector = DETECTORS.get("retinanet")(tmp_path)
    assert detector.category_space == "coco" and detector.origin == "user-provided"
    sequence = DATASETS.get("sfu-G-ShapesPlaza")(None)
    image = sequence.read_image(1)
    outputs = make_session(str(detector.onnx_path)).run(None, detector.preprocess(image))
    coco_rows = detector.detections(outputs, image_id=1, width=image.shape[1], height=image.shape[0])
    assert coco_rows and {r["category_id"] for r in coco_rows} <= set(range(1, 91))
    sfu_rows = detector.for_classes(sequence.category_map("coco")).detections(outputs, 1, image.shape[1], image.shape[0])
    assert {r["category_id"] for r in sfu_rows} <= set(SFU_CLASSES)
    # person (COCO 1) is SFU class 0, car (COCO 3) class 2: a detection of either survives with its new id
    kept = {r["category_id"] for r in coco_rows if r["category_id"] in (1, 3)}
    assert {r["category_id"] for r in sfu_rows if r["category_id"] in (0, 2)} == {k - 1 for k in kept}
