"""SFU-HW-Objects video: the embedded generated sequences, the real-data layout, PyAV decoding and bad input."""
from __future__ import annotations

import shutil
from dataclasses import replace

import numpy as np
import pytest

from harness.coders.container import BitstreamError
from harness.coders.video import decode_sequence, frame_planes
from harness.datasets.sfu_generated import frames, generated_root, source_planes, write_sequence
from harness.datasets.sfu_hw_objects import (SFU_CLASSES, check_sequence, locate_sequence, read_predictions,
                                             sequence_table)
from harness.detection.datasets import select_frames, sfu_sequence

GENERATED = sequence_table()["generated"]


def test_table_holds_the_seeds_eighteen_sequences():
    table = sequence_table()["sequences"]
    assert len(table) == 18 and table["E-FourPeople"].frames == 600 and table["A-Traffic"].width == 2560
    # RaceHorses is in two classes at two resolutions: keys keep them apart
    assert table["C-RaceHorses"].width == 832 and table["D-RaceHorses"].width == 416
    assert sum(1 for info in table.values() if info.klass == "B") == 5


def test_generated_sequences_are_declared_with_sfu_class_ids():
    assert len(GENERATED) >= 3 and len({(i.width, i.height) for i in GENERATED.values()}) >= 3
    classes = sequence_table()["shape_classes"]
    for info in GENERATED.values():
        assert info.frames >= 60 and all(classes[shape] in SFU_CLASSES for shape in info.shapes)
        labels = {box.label for _, boxes in frames(replace(info, frames=10)) for box in boxes}
        assert labels <= {classes[s] for s in info.shapes} and labels


@pytest.mark.parametrize("key", list(GENERATED))
def test_decoded_frames_are_the_coded_source_bit_for_bit(key):
    info = GENERATED[key]
    video, _ = locate_sequence(generated_root(), info)
    decoded = decode_sequence(video, pix_fmt="yuv420p")
    count = 0
    for expected, picture in zip(source_planes(info), decoded):
        got = frame_planes(picture)
        assert all(np.array_equal(a, b) for a, b in zip(expected, got)), f"{key}: frame {count} differs"
        count += 1
    assert count == info.frames and next(decoded, None) is None


def test_real_data_layout_runs_through_the_real_asset_path(tmp_path):
    """The generated files laid out where `assets verify` expects the extracted data set, read by the real path."""
    from harness.assetstore.paths import require_asset

    info = replace(GENERATED["G-ShapesPlaza"], frames=12)
    root = tmp_path / "sfuhwobjects"
    write_sequence(root, info)
    assert require_asset("sfu_hw_objects", tmp_path) == root
    dataset = sfu_sequence(require_asset("sfu_hw_objects", tmp_path), info, "user-provided", frames=(2, 10), stride=4)
    assert dataset.image_ids() == [3, 7] and dataset.read_image(7).shape == (info.height, info.width, 3)
    expected = [image for image, _ in frames(info)][6]
    # rgb -> yuv420p -> rgb is not exact (chroma subsampling), but close
    assert np.abs(dataset.read_image(7).astype(int) - expected).mean() < 8


def _laid_out(tmp_path, frames_count=8):
    info = replace(GENERATED["G-ShapesHarbour"], frames=frames_count)
    write_sequence(tmp_path, info)
    return info, *locate_sequence(tmp_path, info)


def test_truncated_stream_disagrees_with_the_table(tmp_path):
    info, video, folder = _laid_out(tmp_path)
    data = video.read_bytes()
    video.write_bytes(data[: len(data) // 2])
    with pytest.raises(ValueError, match=rf"{video.name}: \d pictures, but the sequence table"):
        check_sequence(video, folder / "ground-truth", info)


def test_frame_count_that_disagrees_with_the_table_is_an_error(tmp_path):
    info, video, folder = _laid_out(tmp_path)
    with pytest.raises(ValueError, match="8 pictures, but the sequence table .* 9 frames"):
        check_sequence(video, folder / "ground-truth", replace(info, frames=9))


def test_non_hevc_file_is_refused(tmp_path):
    info, video, folder = _laid_out(tmp_path)
    video.write_bytes(b"RIFF" + bytes(1000))
    with pytest.raises(BitstreamError, match=f"{video.name}: not an HEVC Annex-B stream"):
        check_sequence(video, folder / "ground-truth", info)


def test_malformed_ground_truth_line_names_file_and_line(tmp_path):
    info, video, folder = _laid_out(tmp_path)
    (folder / "ground-truth" / "003.txt").write_text("0 1 2 3 4\n2 x 2 3 4\n")
    with pytest.raises(ValueError, match=r"003\.txt:2: box_topleft_x must be a number"):
        sfu_sequence(tmp_path, info, "user-provided")


def test_prediction_label_outside_the_classes_names_file_and_line(tmp_path):
    (tmp_path / "000.txt").write_text("0 0.9 1 2 3 4\n")
    (tmp_path / "001.txt").write_text("2 0.5 1 2 3 4\n3 0.5 1 2 3 4\n")
    with pytest.raises(ValueError, match=r"001\.txt:2: object_label 3 is not a class id"):
        read_predictions(tmp_path)
    (tmp_path / "001.txt").write_text("2 0.5 1 2 3 4\n")
    assert [(r["image_id"], r["category_id"]) for r in read_predictions(tmp_path)] == [(1, 0), (2, 2)]


def test_frame_selection_follows_slice_rules_and_refuses_bad_bounds():
    assert select_frames(10) == tuple(range(10))
    assert select_frames(10, (2, None), 3) == (2, 5, 8)
    for frames, stride in (((0, 11), 1), ((None, None), 0), ((5, 5), 1)):
        with pytest.raises(ValueError):
            select_frames(10, frames, stride)


def test_ground_truth_of_a_frame_beyond_the_sequence_is_an_error(tmp_path):
    info, video, folder = _laid_out(tmp_path)
    shutil.copy(folder / "ground-truth" / "000.txt", folder / "ground-truth" / "050.txt")
    with pytest.raises(ValueError, match="050.txt: ground truth of frame 50, beyond the 8 frames"):
        check_sequence(video, folder / "ground-truth", info)


@pytest.mark.benchmark
@pytest.mark.parametrize("key", list(GENERATED))
def test_frame_decoding_cost_per_frame(benchmark, key):
    """PyAV decoding of a whole generated sequence, streamed frame by frame to RGB (the video stage of the sfu
    pipeline, before part 1); ``ms_per_frame`` in the benchmark's extra info."""
    from harness.datasets.sfu_hw_objects import FrameReader

    info = GENERATED[key]
    video, _ = locate_sequence(generated_root(), info)

    def read_all():
        reader = FrameReader(video, info)
        return [reader.read(frame).shape for frame in range(info.frames)]

    shapes = benchmark.pedantic(read_all, rounds=3, iterations=1, warmup_rounds=1)
    assert shapes == [(info.height, info.width, 3)] * info.frames
    benchmark.extra_info.update({"sequence": key, "frames": info.frames,
                                 "ms_per_frame": 1000 * benchmark.stats.stats.mean / info.frames})
