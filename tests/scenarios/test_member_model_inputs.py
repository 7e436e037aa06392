"""The matrices' user-model path on an export with symbolic dimensions: the catalogue entry declares the input
shape (``input_shape`` in references/assets.yaml), not code."""
from __future__ import annotations

import sys
from pathlib import Path

import pytest

import harness.models
from harness.assetstore.manifest import load_manifest
from harness.matrix import scenario_matrix
from harness.scenarios import SCENARIOS
from harness.scenarios.base import RunContext
from harness.split.inputs import InputError

sys.path.insert(0, str(Path(__file__).parents[1] / "split"))
from member_models import torchscript  # noqa: E402


@pytest.fixture(scope="module")
def symbolic_export(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return torchscript(tmp_path_factory.mktemp("member") / "ssd_resnet.onnx", 13)


def split_sweep():
    cls = SCENARIOS.get("split_sweep")
    return cls(scenario_matrix(cls), RunContext())


def test_declared_input_shape_feeds_a_symbolic_export(symbolic_export, monkeypatch) -> None:
    entry = {"name": "ssd_resnet", "model": "ssd_resnet", "source": "user"}
    with pytest.raises(InputError, match="declare the model's input_shape in its entry of references/assets.yaml"):
        split_sweep().inputs(entry, symbolic_export)
    monkeypatch.setattr(harness.models, "model_input_shapes", lambda name: {"": (1, 3, 48, 80)} if name == "ssd_resnet" else {})
    (feed,) = split_sweep().inputs(entry, symbolic_export)
    assert feed["image"].shape == (1, 3, 48, 80) and feed["image"].dtype.name == "float32"
    monkeypatch.setattr(harness.models, "model_input_shapes", lambda name: {"": (1, 4, 48, 80)})
    with pytest.raises(InputError, match="image of shape 1x4x48x80 does not fit the declared"):
        split_sweep().inputs(entry, symbolic_export)


def test_the_manifest_checks_input_shape(tmp_path) -> None:
    base = ("assets:\n  - {name: m, kind: model, origin: user-provided, root: data_dir, path: models/m.onnx, "
            "obtain: export it, input_shape: %s}\n")
    (tmp_path / "ok.yaml").write_text(base % "{image: [1, 3, 320, 320]}")
    assert load_manifest(tmp_path / "ok.yaml")[0].input_shape == {"image": [1, 3, 320, 320]}
    assert harness.models.model_input_shapes("m", tmp_path / "ok.yaml") == {"image": (1, 3, 320, 320)}
    (tmp_path / "bad.yaml").write_text(base % "[1, 3, -320]")
    with pytest.raises(ValueError, match=r"\(m\): input_shape must be"):
        load_manifest(tmp_path / "bad.yaml")
