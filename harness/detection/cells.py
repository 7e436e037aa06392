"""What one cell (split point x coder) of the detection pipeline measures, per image and merged.

A cell is a map over images and a reduce: :class:`ImageCoding` is one image's share (detections, sizes,
the NMSE sums, times), a :class:`CellPartial` holds the images one shard coded, and :func:`merge_images`
adds the shares up in dataset order, so a cell's :class:`CellResult` is identical however its images were
sharded (the Ray executor) or ordered. Everything here is plain data, picklable.
"""
from __future__ import annotations

import statistics
from dataclasses import dataclass, field
from typing import Any, Sequence

from harness.split.verify import combined_sha256, nmse


def kbpi_stats(coded_bytes: Sequence[int]) -> tuple[float, float]:
    """(mean, standard deviation) of the kilobits per image (seed 002's KBPI) of per-image coded sizes.

    Population form (divide by the number of images): the evaluation set is the whole population a cell is
    measured on. Computed on the integer byte counts (statistics works in exact fractions), so equal sizes
    give exactly 0."""
    if not coded_bytes:
        raise ValueError("KBPI of no image")
    return sum(coded_bytes) * 8 / 1000 / len(coded_bytes), statistics.pstdev(coded_bytes) * 8 / 1000


@dataclass
class ImageCoding:
    """One image of a cell: encode -> decode -> part 2 -> detections."""

    image_id: int
    rows: list[dict]  # COCO results rows
    raw_bytes: int  # the cut tensors as stored (sum of nbytes)
    coded_bytes: int  # the coder's bitstream, container included
    feature_sq: list[tuple[float, float]]  # per cut tensor: (squared error, squared reference) sums
    output_sq: list[tuple[float, float]]  # per model output, against the unsplit anchor
    enc_time: float
    dec_time: float
    part2_time: float
    part1_sha256: str = ""  # the cut tensors part 1 gave (harness.split.verify.tensors_sha256)
    part2_input_sha256: str = ""  # the decoded tensors that entered part 2
    estimated_bytes: float | None = None  # the coder's entropy-model estimate (Coder.estimated_bytes)


@dataclass
class CellPartial:
    """The images of one cell that one worker coded (any subset, any order)."""

    split: int
    coder: str  # canonical coder spec
    images: list[ImageCoding]


@dataclass
class CellResult:
    split: int
    coder: str
    metrics: dict[str, Any]  # calc_map / voc / coco figures
    uncompressed_bytes: int
    compressed_bytes: int
    feature_nmse: float
    output_nmse: float
    enc_time: float
    dec_time: float
    part1_time: float
    part2_time: float
    metrics_time: float
    detections: list[dict]
    images: int
    coded_bytes_per_image: list[int] = field(default_factory=list)  # in dataset order
    part1_sha256: str = ""  # over the images in dataset order
    part2_input_sha256: str = ""
    output_nmse_per_image: list[float] = field(default_factory=list)  # split vs unsplit, in dataset order
    estimated_bytes: float | None = None  # sum over the images, where the coder has an entropy model

    def fraction_below(self, bound: float) -> float:
        """Fraction of the images whose split-vs-unsplit output NMSE is below ``bound`` (seed 001 §10.3.9.1)."""
        values = self.output_nmse_per_image
        return sum(1 for value in values if value < bound) / len(values) if values else float("nan")

    @property
    def compress_ratio(self) -> float:
        return self.compressed_bytes / self.uncompressed_bytes

    @property
    def kbpi(self) -> float:
        """Kilobits per image (seed 002's KBPI): mean over the images of the cell."""
        return self.compressed_bytes * 8 / 1000 / self.images

    @property
    def kbpi_std(self) -> float:
        """Standard deviation of the kilobits per image over the cell's images (see :func:`kbpi_stats`)."""
        return kbpi_stats(self.coded_bytes_per_image)[1] if self.coded_bytes_per_image else 0.0


@dataclass
class MergedImages:
    """The sums of a cell's images, in dataset order."""

    rows: list[dict]
    raw_bytes: int
    coded_bytes: list[int]
    feature_nmse: float
    output_nmse: float
    enc_time: float
    dec_time: float
    part2_time: float
    part1_sha256: str = ""
    part2_input_sha256: str = ""
    output_nmse_per_image: list[float] = field(default_factory=list)
    estimated_bytes: float | None = None


def merge_images(split: int, coder: str, order: Sequence[int], partials: Sequence[CellPartial]) -> MergedImages:
    """Merge the partials of one cell; every image of ``order`` exactly once, nothing else.

    Sums run image by image in ``order`` (and tensor by tensor within an image), the order of an unsharded
    run, so the floating-point totals do not depend on how the images were sharded.
    """
    by_id: dict[int, ImageCoding] = {}
    for partial in partials:
        if (partial.split, partial.coder) != (split, coder):
            raise ValueError(f"partial of cell split {partial.split} x {partial.coder} given to cell "
                             f"split {split} x {coder}")
        for image in partial.images:
            if image.image_id in by_id:
                raise ValueError(f"image {image.image_id} appears in more than one partial of cell {split} x {coder}")
            by_id[image.image_id] = image
    missing = [i for i in order if i not in by_id]
    unknown = sorted(set(by_id) - set(order))
    if missing or unknown:
        raise ValueError(f"cell {split} x {coder}: partials miss image(s) {missing[:5]} / hold unknown image(s) "
                         f"{unknown[:5]}; every dataset image must be coded exactly once")
    rows: list[dict] = []
    raw = 0
    feat_err = feat_ref = out_err = out_ref = enc = dec = part2 = 0.0
    for image in (by_id[i] for i in order):
        rows += image.rows
        raw += image.raw_bytes
        for err, ref in image.feature_sq:
            feat_err, feat_ref = feat_err + err, feat_ref + ref
        for err, ref in image.output_sq:
            out_err, out_ref = out_err + err, out_ref + ref
        enc, dec, part2 = enc + image.enc_time, dec + image.dec_time, part2 + image.part2_time
    images = [by_id[i] for i in order]
    estimates = [image.estimated_bytes for image in images]
    estimated = None if any(e is None for e in estimates) else float(sum(estimates))
    return MergedImages(rows, raw, [image.coded_bytes for image in images], nmse(feat_err, feat_ref),
                        nmse(out_err, out_ref), enc, dec, part2,
                        combined_sha256([image.part1_sha256 for image in images]),
                        combined_sha256([image.part2_input_sha256 for image in images]),
                        [nmse(sum(e for e, _ in image.output_sq), sum(r for _, r in image.output_sq))
                         for image in images], estimated)
