"""The data-set catalogue: every data set a matrix names resolves through harness.datasets.DATASETS, the
registered name is the results' data_set_name, and a missing file is AssetMissing naming it."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

import harness.detection.datasets  # noqa: F401  (registers the detection sets)
from harness.asr.task import AsrTask, build_task
from harness.assetstore.paths import AssetMissing
from harness.datasets import DATASETS
from harness.datasets.relu_features import relu_features
from harness.matrix import load_matrix
from harness.registry import RegistryError


def _librispeech(root: Path, subset: str, utterances: int) -> None:
    chapter = root / "librispeech" / "LibriSpeech" / subset / "84" / "121"
    chapter.mkdir(parents=True)
    lines = []
    for number in range(utterances):
        (chapter / f"84-121-{number:04d}.flac").write_bytes(b"")  # the reader pairs files before reading audio
        lines.append(f"84-121-{number:04d} WORD {number}")
    (chapter / "84-121.trans.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")


def test_every_data_set_a_matrix_names_is_catalogued() -> None:
    asr = load_matrix("asr")["models"].values()
    named = {entry["data_set"] for entry in asr} | ({entry.get("valid_set") for entry in asr} - {None})
    named |= {entry["data_set"] for entry in load_matrix("bitinc")["models"].values()}
    named |= {entry["dataset"] for entry in load_matrix("ssd")["detectors"]}
    assert {"embedded", "librispeech-test-clean", "librispeech-dev-clean", "coco50", "shapes50_selected"} <= named
    assert named <= set(DATASETS.names())
    assert {"shapes50", "shapes50_selected", "coco50", "pose_images", "relu_features"} <= set(DATASETS.names())


def test_unknown_name_lists_the_known_ones() -> None:
    with pytest.raises(RegistryError, match="unknown data set 'timit'; known: coco50, embedded"):
        DATASETS.get("timit")


def test_asr_partitions_are_two_catalogue_entries(tmp_path: Path) -> None:
    _librispeech(tmp_path, "test-clean", 3)
    _librispeech(tmp_path, "dev-clean", 2)
    task = build_task("wav2vec2_asr_base_960h", data_dir=tmp_path)
    test, valid = task.dataset("test"), task.dataset("valid")
    assert (test.subset, len(test)) == ("test-clean", 3) and (valid.subset, len(valid)) == ("dev-clean", 2)
    assert [u.transcript for u in valid] == ["WORD 0", "WORD 1"]


def test_embedded_speech_reads_no_data_dir(tmp_path: Path) -> None:
    assert isinstance(build_task("asr_small", data_dir=tmp_path), AsrTask)
    shipped = DATASETS.get("embedded")(tmp_path)
    assert shipped.root == DATASETS.get("embedded")(None).root and len(shipped) > 10


def test_pose_images_read_relative_files_under_the_data_dir(tmp_path: Path) -> None:
    Image.fromarray(np.full((9, 7, 3), 200, np.uint8)).save(tmp_path / "person.png")
    images = DATASETS.get("pose_images")(tmp_path, sources=("file:person.png", "generated:1"))
    assert images[0].size == (7, 9) and images[1].size == (257, 257)
    with pytest.raises(AssetMissing, match="file:.*absent.png: no such file"):
        DATASETS.get("pose_images")(tmp_path, sources=("file:absent.png",))


def test_feature_map_entry_is_the_seeded_generator() -> None:
    entry = DATASETS.get("relu_features")(None, shape=[1, 4, 6, 5], seed=7)
    assert entry.shape == (1, 4, 6, 5) and np.array_equal(entry, relu_features((1, 4, 6, 5), 7))
    assert not np.array_equal(entry, relu_features((1, 4, 6, 5), 8))
