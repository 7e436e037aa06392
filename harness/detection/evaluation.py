"""A detector's anchor accuracy on the generated held-out images, in the three metric styles of harness.metrics.

The training scripts score their exports here (the figures of the model JSON), so every embedded detector is
reported on the same images in the same way: images 0..count-1 of the held-out stream, or stream indices of a
selection (seed 000 style: the first images on which an anchor is perfect).
"""
from __future__ import annotations

from harness.datasets.synthetic_shapes import EVAL_SEED
from harness.detection.datasets import DetectionDataset, coco_folder_dataset
from harness.detection.detectors import Detector


def heldout_dataset(count: int = 50, indices: list[int] | None = None) -> DetectionDataset:
    """Images 0..count-1 of the held-out stream, or the stream ``indices``, as a data set."""
    from harness.datasets.coco_folder import IMAGES_DIR, INSTANCES_JSON, eval_set

    root = eval_set(count, indices=indices)
    return coco_folder_dataset("shapes-eval", root / INSTANCES_JSON, root / IMAGES_DIR, origin="generated")


def evaluate_detector(detector: Detector, count: int = 50, indices: list[int] | None = None) -> dict:
    """calc_map, VOC and COCO scores (percent, 2 decimals) of ``detector`` on :func:`heldout_dataset`."""
    from harness.detection.inference import detect_rows
    from harness.metrics import score
    from harness.metrics.coco_data import parse_detections

    dataset = heldout_dataset(count, indices)
    truth = dataset.ground_truth
    parsed = parse_detections(detect_rows(detector, dataset), truth)
    coco = score("coco", truth, parsed)
    selection = "none: the first images of the held-out stream" if indices is None else \
        "seed 000 style: the first images of the held-out stream on which the anchor is perfect"
    return {"eval_images": len(indices) if indices else count, "eval_seed": EVAL_SEED, "selection": selection,
            "indices": indices,
            "calc_map": round(score("calc_map", truth, parsed)["mAP"], 2), "voc": round(score("voc", truth, parsed)["mAP"], 2),
            "coco_AP": round(100 * coco["AP"], 2), "coco_AP50": round(100 * coco["AP50"], 2),
            "coco_AP75": round(100 * coco["AP75"], 2), "coco_APs": round(100 * coco["APs"], 2)}


def select_indices(detector: Detector, pool: int, count: int = 50) -> list[int]:
    """Seed 000's selection over the first ``pool`` held-out images with ``detector`` as the anchor (stream
    indices; the pool's image ids are 1-based stream positions)."""
    from harness.detection.selection import select_perfect

    chosen = select_perfect(detector, heldout_dataset(pool), count)
    if len(chosen) < count:
        raise ValueError(f"only {len(chosen)} of the first {pool} held-out images are perfect, {count} needed; "
                         "raise the pool size or train the detector further")
    return [image_id - 1 for image_id in chosen]
