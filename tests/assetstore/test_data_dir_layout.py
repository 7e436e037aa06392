"""The --data-dir layout comes from references/assets.yaml alone: files placed exactly where
``assets verify --data-dir D`` says they are expected make the real-asset paths run instead of skipping.

Stand-ins: the built ssd_resnet architecture (seeded weights) as the user's ssd_resnet.onnx, generated shapes
images as a COCO-style val2017 folder with its instances JSON and a selection list of three image ids.
"""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from PIL import Image

from harness.cli import main

COCO_ASSETS = ("ssd_resnet", "coco_val2017_images", "coco_annotations_2017", "coco_selection_50")
IMAGE_IDS = [139, 285, 632]  # COCO-style ids, deliberately not 1..n
SELECTED = [632, 139, 285]  # selection order is evaluation order


def _verify(data: Path, capsys) -> dict[str, dict]:
    assert main(["assets", "verify", "--data-dir", str(data), "--json"]) == 0
    return {a["name"]: a for a in json.loads(capsys.readouterr().out)["assets"]}


def _lay_out_coco(places: dict[str, Path], seeded_model: Path) -> None:
    from harness.datasets.coco_folder import coco_dict
    from harness.datasets.synthetic_shapes import EVAL_SEED, generate_batch

    places["ssd_resnet"].parent.mkdir(parents=True, exist_ok=True)
    places["ssd_resnet"].symlink_to(seeded_model)
    samples = generate_batch(EVAL_SEED, 0, len(IMAGE_IDS))
    names = [f"{image_id:012d}.jpg" for image_id in IMAGE_IDS]
    places["coco_val2017_images"].mkdir(parents=True)
    for sample, name in zip(samples, names):
        Image.fromarray(sample.image).save(places["coco_val2017_images"] / name, format="JPEG", quality=95)
    instances = coco_dict(samples, names)
    renumber = dict(zip(range(1, len(IMAGE_IDS) + 1), IMAGE_IDS))
    for image in instances["images"]:
        image["id"] = renumber[image["id"]]
    for annotation in instances["annotations"]:
        annotation["image_id"] = renumber[annotation["image_id"]]
    places["coco_annotations_2017"].parent.mkdir(parents=True, exist_ok=True)
    places["coco_annotations_2017"].write_text(json.dumps(instances))
    places["coco_selection_50"].write_text("# stand-in selection\n" + "".join(f"{i}\n" for i in SELECTED))


def test_files_where_verify_says_make_the_real_asset_detection_path_run(tmp_path, capsys, monkeypatch):
    from harness.detection.datasets import DATASETS
    from harness.detection.detectors import DETECTORS
    from harness.detection.pipeline import SplitDetectionPipeline
    from harness.models import model_file, model_path

    seeded = model_path("ssd_resnet_seeded")  # from the shared cache, before the cache moves to tmp_path
    monkeypatch.setenv("HARNESS_CACHE_DIR", str(tmp_path / "cache"))
    data = tmp_path / "data"
    data.mkdir()
    before = _verify(data, capsys)
    places = {}
    for name in COCO_ASSETS:
        assert before[name]["status"] == "missing", before[name]
        assert f"expected at {before[name]['location']}" in before[name]["message"]
        places[name] = Path(before[name]["location"])
        assert data in places[name].parents
    _lay_out_coco(places, seeded)

    after = _verify(data, capsys)
    for name in COCO_ASSETS:
        assert after[name]["status"] in ("ok", "unchecked", "extracted") and not after[name]["failed"], after[name]

    detector = DETECTORS.get("ssd_resnet")(data)
    dataset = DATASETS.get("coco50")(data)
    assert detector.onnx_path == places["ssd_resnet"] and dataset.image_ids() == SELECTED
    assert model_file("ssd_resnet", "user", data) == places["ssd_resnet"]  # the structure tests' user model
    pipeline = SplitDetectionPipeline(detector, dataset, [10], "cpu")
    metrics = pipeline.anchor_metrics()
    assert 0.0 <= metrics["calc_map"] <= 100.0 and metrics["coco"]["AP"] <= 1.0
    assert {row["image_id"] for row in pipeline.anchor_detections()} <= set(SELECTED)
    assert pipeline.meta()["part1_max_abs_diff"]["10"] == 0.0  # part 1 really ran on the placed images


def test_select_command_reads_and_writes_the_manifest_places(tmp_path, capsys, monkeypatch):
    """``select --data-dir D`` alone finds the pool and the model where the manifest puts them; the
    embedded detector on its own generated pool is perfect on some images, so a list is written."""
    from harness.assetstore.paths import asset_path
    from harness.datasets.coco_folder import IMAGES_DIR, INSTANCES_JSON, eval_set

    data = tmp_path / "data"
    root = eval_set(50)
    images, instances = asset_path("coco_val2017_images", data), asset_path("coco_annotations_2017", data)
    images.parent.mkdir(parents=True)
    images.symlink_to(root / IMAGES_DIR)
    instances.parent.mkdir(parents=True)
    instances.symlink_to(root / INSTANCES_JSON)
    assert main(["select", "--detector", "ssd_small", "--data-dir", str(data), "--count", "2"]) == 0
    written = json.loads(capsys.readouterr().out)
    assert Path(written["out"]) == asset_path("coco_selection_50", data)
    listed = [int(line) for line in Path(written["out"]).read_text().splitlines() if not line.startswith("#")]
    assert listed == written["selected"] and len(listed) == 2
    assert main(["select", "--detector", "ssd_small", "--out", str(tmp_path / "x.txt")]) == 1
    assert "--data-dir" in capsys.readouterr().err


def test_asr_weights_librispeech_and_sfu_are_read_where_verify_says(tmp_path, capsys):
    from harness.asr import pretrained
    from harness.datasets.librispeech import LibriSpeechSet, librispeech_root
    from harness.datasets.sfu_hw_objects import read_sequence, sequence_dir

    data = tmp_path / "data"
    data.mkdir()
    before = _verify(data, capsys)
    assert pretrained.find_weights("WAV2VEC2_ASR_BASE_960H", data) is None
    reason = pretrained.missing_weights_reason("WAV2VEC2_ASR_BASE_960H", data)
    assert "wav2vec2_asr_base_960h" in reason and before["wav2vec2_asr_base_960h"]["location"] in reason
    weights = Path(before["wav2vec2_asr_base_960h"]["location"])
    weights.parent.mkdir(parents=True)
    weights.write_bytes(b"stand-in")  # located, not loaded
    assert pretrained.find_weights("WAV2VEC2_ASR_BASE_960H", data) == weights

    chapter = Path(before["librispeech_test_clean"]["location"]) / "1089" / "134686"
    chapter.mkdir(parents=True)
    (chapter / "1089-134686-0000.flac").write_bytes(b"")
    (chapter / "1089-134686.trans.txt").write_text("1089-134686-0000 HELLO\n")
    assert [u.utt_id for u in LibriSpeechSet(librispeech_root(data), "test-clean")] == ["1089-134686-0000"]

    truth = Path(before["sfu_hw_objects"]["location"]) / "ClassC" / "BasketballDrill_832x480_50" / "ground-truth"
    truth.mkdir(parents=True)
    (truth / "BasketballDrill_0.txt").write_text("0 10 20 30 40\n")
    assert len(read_sequence(sequence_dir(data, "BasketballDrill"))["annotations"]) == 1

    after = _verify(data, capsys)
    for name in ("wav2vec2_asr_base_960h", "librispeech_test_clean", "sfu_hw_objects"):
        assert after[name]["status"] in ("unchecked", "extracted"), after[name]


def test_missing_real_assets_name_the_asset_and_its_manifest_place(tmp_path):
    from harness.detection.datasets import DATASETS
    from harness.detection.detectors import AssetMissing

    with pytest.raises(AssetMissing, match=r"'coco_val2017_images'.*coco/val2017 under --data-dir"):
        DATASETS.get("coco50")(tmp_path)
    with pytest.raises(AssetMissing, match=r"pass --data-dir"):
        DATASETS.get("coco50")(None)


def test_derive_cells_of_the_users_detector_skip_without_its_files_and_run_with_them(tmp_path, capsys, monkeypatch):
    """The derive scenario's ssd_resnet cells (``--data-dir``): without the files each cell's skip reason names
    the asset it lacks; with the stand-in layout the dynamic-INT8 cell derives and scores the placed model on the
    placed images, and passes the scenario's own checks (sizes from the file, outputs within the declared NMSE)."""
    from harness.models import model_path
    from harness.matrix import scenario_matrix
    from harness.scenarios import SCENARIOS
    from harness.scenarios.base import RunContext
    from harness.scenarios.derive import DeriveScenario

    scenario_class = SCENARIOS.get("derive")
    shipped = scenario_matrix(scenario_class)  # matrix/derive.yaml's own ssd_resnet entry, its methods as shipped
    matrix = {**shipped, "latency_repeat": 2, "models": {"ssd_resnet": shipped["models"]["ssd_resnet"]}}
    bare = scenario_class(matrix, RunContext(data_dir=tmp_path / "empty"))
    assert issubclass(scenario_class, DeriveScenario)
    for cell in bare.cells():
        assert "coco_val2017_images" in bare.missing_reason(cell) or "ssd_resnet" in bare.missing_reason(cell)

    seeded = model_path("ssd_resnet_seeded")
    monkeypatch.setenv("HARNESS_CACHE_DIR", str(tmp_path / "cache"))
    data = tmp_path / "data"
    data.mkdir()
    places = {name: Path(entry["location"]) for name, entry in _verify(data, capsys).items() if name in COCO_ASSETS}
    _lay_out_coco(places, seeded)
    placed = scenario_class(matrix, RunContext(data_dir=data))
    cells = {cell["method"]: cell for cell in placed.cells()}
    assert all(placed.missing_reason(cell) is None for cell in cells.values())
    outcome = placed.run_cell(cells["dynamic"])
    placed.check_cell(cells["dynamic"], outcome)
    assert outcome.columns["images"] == len(SELECTED) and outcome.columns["quantized_nodes"] > 0
    assert outcome.columns["file_bytes"] < 0.5 * seeded.stat().st_size  # int8 weights of the placed model
