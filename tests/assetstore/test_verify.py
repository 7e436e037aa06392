"""The asset manifest and ``assets verify``: states, exit status, folder md5 against md5sum."""
from __future__ import annotations

import hashlib
import json
import shutil
import subprocess

import pytest
import yaml

from harness.assetstore.manifest import MANIFEST_PATH, load_manifest
from harness.assetstore.digest import md5_tree
from harness.assetstore.verify import verify_assets
from harness.cli import main


def test_repository_manifest_is_valid_and_complete():
    assets = load_manifest()
    names = {a.name for a in assets}
    assert {"coco_val2017_images", "coco_annotations_2017", "librispeech_test_clean", "sfu_hw_objects",
            "wav2vec2_asr_base_960h", "hubert_asr_large", "ssd_small", "asr_small"} <= names
    assert {a.origin for a in assets} == {"shipped", "built", "generated", "url", "user-provided"}
    for asset in assets:
        if asset.origin == "url":
            assert asset.url and asset.root == "data_dir"
        if asset.origin == "shipped":
            assert asset.required and asset.root == "repo"
    sfu = next(a for a in assets if a.name == "sfu_hw_objects")
    assert sfu.url == "https://dash-large-files.akamaized.net/WAVE/3GPP/AIML/ReferenceDataSets/sfuhwobjects.tar.gz"


def _manifest(tmp_path, entries):
    path = tmp_path / "assets.yaml"
    path.write_text(yaml.safe_dump({"assets": entries}))
    return path


@pytest.mark.parametrize("entry,message", [
    ({"origin": "stolen"}, "origin 'stolen' is not one of"),
    ({"md5": "xyz"}, "not 32 lowercase hex"),
    ({"path": "../up.onnx"}, "must be relative"),
    ({"origin": "url"}, "needs an http"),
    ({"colour": "red"}, "unknown field"),
])
def test_malformed_manifest_entries_are_named(tmp_path, entry, message):
    base = {"name": "m", "kind": "model", "origin": "shipped", "root": "repo", "path": "m.onnx", "obtain": "x"}
    with pytest.raises(ValueError, match=message):
        load_manifest(_manifest(tmp_path, [{**base, **entry}]))


@pytest.fixture
def repo(tmp_path):
    root = tmp_path / "repo"
    (root / "assets" / "tree" / "sub").mkdir(parents=True)
    (root / "assets" / "model.onnx").write_bytes(b"model bytes")
    (root / "assets" / "model.md5").write_text(hashlib.md5(b"model bytes").hexdigest() + "  model.onnx\n")
    (root / "assets" / "tree" / "a.txt").write_text("a")
    (root / "assets" / "tree" / "sub" / "b.txt").write_text("b")
    return root


def _entries(**overrides):
    shipped = {"name": "model", "kind": "model", "origin": "shipped", "root": "repo", "path": "assets/model.onnx",
               "md5_file": "assets/model.md5", "required": True, "obtain": "in the repo"}
    optional = {"name": "coco", "kind": "dataset", "origin": "url", "root": "data_dir", "path": "coco/val.zip",
                "url": "http://127.0.0.1/val.zip", "md5": hashlib.md5(b"zip").hexdigest(), "obtain": "fetch coco"}
    built = {"name": "built", "kind": "model", "origin": "built", "root": "cache", "path": "models/x-*.onnx",
             "obtain": "exported on first use"}
    return [{**shipped, **overrides}, optional, built]


def _verify(tmp_path, repo, data_dir, entries):
    statuses = verify_assets(load_manifest(_manifest(tmp_path, entries)), data_dir, repo_root=repo,
                             cache_root=tmp_path / "cache")
    return {s.name: s for s in statuses}


def test_states_and_failures(tmp_path, repo):
    data = tmp_path / "data"
    data.mkdir()
    states = _verify(tmp_path, repo, data, _entries())
    assert states["model"].status == "ok" and not states["model"].failed
    assert states["coco"].status == "missing" and not states["coco"].failed and "fetch coco" in states["coco"].message
    assert states["built"].status == "on-demand" and not states["built"].failed
    (data / "coco").mkdir()
    (data / "coco" / "val.zip").write_bytes(b"not the zip")
    states = _verify(tmp_path, repo, data, _entries())
    assert states["coco"].status == "mismatch" and states["coco"].failed
    (repo / "assets" / "model.onnx").unlink()
    assert _verify(tmp_path, repo, None, _entries())["model"].failed


def test_shipped_md5_sidecar_mismatch_fails(tmp_path, repo):
    (repo / "assets" / "model.onnx").write_bytes(b"tampered")
    assert _verify(tmp_path, repo, None, _entries())["model"].status == "mismatch"


def test_without_sidecar_the_md5_is_printed(tmp_path, repo):
    state = _verify(tmp_path, repo, None, _entries(md5_file="assets/none.md5"))["model"]
    assert state.status == "unchecked" and hashlib.md5(b"model bytes").hexdigest() in state.message


def test_data_dir_assets_are_skipped_without_data_dir(tmp_path, repo):
    assert _verify(tmp_path, repo, None, _entries())["coco"].status == "skipped"


@pytest.mark.skipif(shutil.which("md5sum") is None, reason="needs coreutils md5sum for the independent check")
def test_folder_md5_is_md5_of_md5sum_listing(repo):
    folder = repo / "assets" / "tree"
    listing = subprocess.run("find . -type f | sed 's|^\\./||' | LC_ALL=C sort | xargs md5sum", shell=True,
                             cwd=folder, capture_output=True, text=True, check=True).stdout
    assert md5_tree(folder) == hashlib.md5(listing.encode()).hexdigest()


def test_cli_exit_status_and_json(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("HARNESS_CACHE_DIR", str(tmp_path / "cache"))
    data = tmp_path / "data"
    (data / "coco").mkdir(parents=True)
    (data / "coco" / "val.zip").write_bytes(b"zip")
    entries = _entries()[1:]
    entries[0]["required"] = True
    man = _manifest(tmp_path, entries)
    assert main(["assets", "verify", "--manifest", str(man), "--data-dir", str(data), "--json"]) == 0
    payload = json.loads(capsys.readouterr().out)
    assert payload["ok"] and [a["status"] for a in payload["assets"]] == ["ok", "on-demand"]
    (data / "coco" / "val.zip").unlink()
    assert main(["assets", "verify", "--manifest", str(man), "--data-dir", str(data)]) == 3
    assert "FAIL coco" in capsys.readouterr().out
    assert main(["assets", "verify", "--manifest", str(man), "--data-dir", str(tmp_path / "nope")]) == 1
    assert "is not a directory" in capsys.readouterr().err


def test_repository_manifest_verifies_without_crashing(capsys):
    code = main(["assets", "verify", "--manifest", str(MANIFEST_PATH)])
    out = capsys.readouterr().out
    assert code in (0, 3) and "assets:" in out
