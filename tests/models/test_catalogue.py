"""The model catalogue: every model a matrix or a task names is an entry of references/assets.yaml, and
:func:`harness.models.model_path` finds each one by the same rule (built -> builder, shipped -> md5-checked
repository file, user-provided -> under --data-dir)."""
from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
import yaml

from harness.assetstore.paths import AssetMissing, manifest_asset
from harness.bitinc.subjects import SUBJECTS
from harness.detection.detectors import DETECTORS
from harness.files import REPO_ROOT
from harness.matrix import load_matrix
from harness.models import MODEL_KINDS, MODELS, model_name, model_path

STRUCTURE_ONLY = {"vgg16_chest", "resnet18_voc", "mobilenet_v2_voc", "vgg16"}  # torch modules built in memory


def catalogue_names() -> set[str]:
    names = set(DETECTORS.names()) | (set(SUBJECTS.names()) - STRUCTURE_ONLY) | set(MODELS.names())
    for scenario in ("split_sweep", "posenet"):
        names |= {model_name(e["model"], e.get("source", "built")) for e in load_matrix(scenario)["models"]}
    return names


@pytest.mark.parametrize("name", sorted(catalogue_names()), ids=lambda name: f"model={name}")
def test_every_model_is_a_manifest_model_entry(name: str):
    asset = manifest_asset(name)
    assert asset.kind in MODEL_KINDS
    # a built entry has its builder, and only built entries have one
    assert (asset.origin == "built") == (name in MODELS)


def test_a_shipped_model_is_the_repository_file_whose_md5_its_sidecar_names():
    path = model_path("ssd_small")
    assert path == REPO_ROOT / "harness" / "assets" / "ssd_small.onnx"
    sidecar = (REPO_ROOT / "harness" / "assets" / "ssd_small.onnx.md5").read_text().split()[0]
    assert hashlib.md5(path.read_bytes()).hexdigest() == sidecar


def _manifest(tmp_path: Path, md5: str | None) -> Path:
    entries = [{"name": "member_det", "kind": "model", "origin": "user-provided", "root": "data_dir",
                "path": "models/member_det.onnx", "md5": md5, "obtain": "export it"},
               {"name": "member_set", "kind": "dataset", "origin": "user-provided", "root": "data_dir",
                "path": "data/member_set", "obtain": "copy it"}]
    path = tmp_path / "assets.yaml"
    path.write_text(yaml.safe_dump({"assets": entries}))
    return path


def test_a_user_model_is_found_under_the_data_dir_and_checked_against_its_md5(tmp_path: Path):
    data = tmp_path / "data"
    (data / "models").mkdir(parents=True)
    (data / "models" / "member_det.onnx").write_bytes(b"onnx bytes")
    good = hashlib.md5(b"onnx bytes").hexdigest()
    assert model_path("member_det", data, _manifest(tmp_path, good)) == data / "models" / "member_det.onnx"
    with pytest.raises(ValueError, match=r"member_det.onnx has md5 .* says 0{32}"):
        model_path("member_det", data, _manifest(tmp_path, "0" * 32))


def test_what_is_not_there_or_not_a_model_is_refused_by_name(tmp_path: Path):
    manifest = _manifest(tmp_path, None)
    with pytest.raises(AssetMissing, match=r"--data-dir.*models/member_det.onnx"):
        model_path("member_det", None, manifest)
    with pytest.raises(AssetMissing, match="not found"):
        model_path("member_det", tmp_path, manifest)
    with pytest.raises(ValueError, match="is a dataset"):
        model_path("member_set", tmp_path, manifest)
    with pytest.raises(ValueError, match="not built: options"):
        model_path("ssd_small", size=129)
