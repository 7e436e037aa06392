"""Detection accuracy metrics in three documented styles (see docs/metrics.md).

* ``coco``: pycocotools' twelve COCOeval stats (AP@[.5:.95], AP50, ...), fractions in [0, 1] (-1: no data).
* ``voc``: PASCAL VOC AP at IoU 0.5, all-point interpolation, mean over ground-truth classes, percent.
* ``calc_map``: faithful re-implementation of 5G-MAG's calc_map.py (the figures of seed 000), percent.

Each style is one module registering a report function in :data:`METRIC_STYLES`; a report function takes
``(ground_truth, detections, **options)`` and returns a JSON-ready dict. A style also declares its *headline*
figures (:func:`declare_headlines`): the numbers every detection cell gates and reports, each with its
reference name, unit (percent, one unit for every accuracy figure of the suite), direction and results column.
A new style is therefore one module: the scenarios read :func:`headlines` and :func:`score_headlines`.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Sequence

from harness.metrics.coco_data import Detection, GroundTruth
from harness.registry import Registry, import_submodules

StyleReport = Callable[..., dict[str, Any]]
METRIC_STYLES: Registry[StyleReport] = Registry("detection metric style")


def score(style: str, ground_truth: GroundTruth, detections: Sequence[Detection], **options: Any) -> dict[str, Any]:
    """Score detections in the named style (``coco``, ``voc``, ``calc_map``)."""
    return METRIC_STYLES.get(style)(ground_truth, detections, **options)


@dataclass(frozen=True)
class Headline:
    """A figure of a style's report that detection cells gate: ``report[key] * to_percent`` in percent."""

    name: str  # metric name in references and tolerances.yaml
    key: str  # key in the style's report
    column: str  # results column (the scenario's own metric also fills rec_perf)
    to_percent: float = 1.0
    unit: str = "percent"
    higher_is_better: bool = True


_HEADLINES: dict[str, tuple[Headline, ...]] = {}


def declare_headlines(style: str, *items: Headline) -> None:
    _HEADLINES[style] = tuple(items)


def headlines() -> list[tuple[str, Headline]]:
    """(style, headline) of every registered style, in registry order."""
    return [(style, h) for style in METRIC_STYLES.names() for h in _HEADLINES.get(style, ())]


def score_headlines(ground_truth: GroundTruth, detections: Sequence[Detection]) -> tuple[dict[str, float], dict[str, Any]]:
    """Every style's headline figures (percent) and every style's full report."""
    reports = {style: score(style, ground_truth, detections) for style in METRIC_STYLES.names()}
    return {h.name: float(reports[style][h.key]) * h.to_percent for style, h in headlines()}, reports


def per_class_table(ground_truth: GroundTruth, values: dict[int, float], key: str = "AP") -> dict[str, dict[str, Any]]:
    """``{"<category id>": {"name": ..., key: value}}`` in category-id order: ids are unique, names may not be."""
    return {str(cid): {"name": ground_truth.categories[cid], key: values[cid]} for cid in sorted(values)}


import_submodules(__name__)
