"""BD-KBPI-mAP of split inference against the cloud-only anchor (seed 002 Table 1), from results rows.

Seed 002 summarises each "features sent" curve (mAP against kilobits per image, one coder family at one split
point) by its Bjontegaard delta against the cloud-only curve, where the input image is coded and the whole
detector runs in the cloud. Here:

* curves come from the ``ssd`` scenario (one per split point and coder family, as harness.report.curves
  defines a family) and from ``ssd_cloud`` (split ``cloud``: one per image-coder family); rate = ``kbpi``
  (rows without it are no points: BD on bytes per set would equal it only when both cover the same images),
  quality = ``rec_perf`` (calc_map); they are joined on model, data set, device and metric;
* a detector whose part 2 was re-trained from another's (compression-augmented training, seed 002 §3.3: rows
  with ``base_model``) joins its base model's group, its curves named ``<family> @ <detector>``: seed 002
  Table 1 compares "default weights" and "re-trained weights" with the same cloud-only anchor, and the
  between-families table then holds the gain of re-training at the same split;
* the anchor is one ``ssd_cloud`` family, by default HEVC intra 4:4:4 (``hevc-image:chroma=444``: the
  strongest image anchor of matrix/ssd_cloud.yaml), else the one the report is asked for (a family or any
  spec of it, e.g. ``jpeg:quality=50,chroma=444``);
* a table cell holds BD-KBPI (%; negative = fewer kilobits than the anchor for the same mAP) and BD-mAP
  (points) for one method of harness.report.bd (``pchip`` and ``cubic``, one table each).

What is not a number is said in the cell, never hidden: a curve that is not strictly monotonic (saturated
accuracy: several QPs at mAP 100) is reduced to its Pareto front, and the cell says "not monotonic" with the
number of points dropped; "no overlap in mAP" (no BD-KBPI) or "no overlap in KBPI" (no BD-mAP) when those
ranges are disjoint;
"too few points" when the front has fewer points than the method needs (cubic: 4); "cubic fit not monotonic"
when VCEG-M33's polynomial of either curve turns back inside the common mAP interval (its BD-KBPI is then an
artefact of the fit: read the pchip table).
"""
from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass
from itertools import combinations
from typing import Any

import numpy as np

from harness.report.bd import MIN_POINTS, Curve, bd_delta, pareto_front
from harness.report.curves import Point, coder_family, resolve_anchor, split_sort_key
from harness.report.describe import VARIANT_SEPARATOR, higher_is_better, is_coder_row
from harness.report.load import as_float

SPLIT_SCENARIO = "ssd"
CLOUD_SCENARIO = "ssd_cloud"
CLOUD_SPLIT = "cloud"  # harness.scenarios.cloud_anchor.SPLIT
DEFAULT_CLOUD_ANCHOR = "hevc-image:chroma=444"
METHODS = ("pchip", "cubic")  # both of harness.report.bd, one table each
JOIN_COLUMNS = ("model_name", "data_set_name", "device", "metric_name")
NOT_MONOTONIC, TOO_FEW, BAD_FIT = "not monotonic", "too few points", "cubic fit not monotonic"
NO_MAP_OVERLAP, NO_KBPI_OVERLAP = "no overlap in mAP", "no overlap in KBPI"

Curves = dict[tuple[str, str], list[Point]]  # (split, family) -> points


@dataclass(frozen=True)
class BDCell:
    """One comparison as the report prints it; ``None`` values are explained by ``problems``."""

    bd_kbpi: float | None  # percent
    bd_map: float | None  # metric points, test minus anchor
    problems: tuple[str, ...] = ()
    dropped: int = 0  # points left out of the two curves (Pareto front)
    points: tuple[int, int] = (0, 0)  # points of the anchor / test curve used
    detail: str = ""  # the library's explanation (which curve, which points)


@dataclass(frozen=True)
class KbpiGroup:
    """The curves of one (model, data set, device, metric) and the tables built from them."""

    key: tuple[str, ...]
    anchor: str  # the cloud-only anchor family ("" when the group has no cloud-only curve)
    splits: list[str]  # split points of the ssd scenario, numeric order, then "cloud"
    families: list[str]  # feature families (ssd), then image families (ssd_cloud)
    against_anchor: dict[str, dict[tuple[str, str], BDCell]]  # method -> (family, split) -> cell
    between: dict[str, dict[tuple[str, str, str], BDCell]]  # method -> (anchor family, test family, split) -> cell
    curves: Curves  # the points the cells were computed from (the section's figure draws them)


def kbpi_curves(rows: list[dict[str, Any]]) -> dict[tuple[str, ...], Curves]:
    """(model, data set, device, metric) -> (split, family) -> points of the ssd and ssd_cloud rows."""
    out: dict[tuple[str, ...], Curves] = defaultdict(lambda: defaultdict(list))
    for row in rows:
        scenario, split = str(row.get("scenario_name", "")), str(row.get("split", ""))
        if scenario not in (SPLIT_SCENARIO, CLOUD_SCENARIO) or not is_coder_row(row) or not split:
            continue
        rate, metric = as_float(row.get("kbpi")), as_float(row.get("rec_perf"))
        if rate is None or metric is None or rate <= 0 or math.isnan(metric):
            continue
        if scenario == CLOUD_SCENARIO:
            split = CLOUD_SPLIT
        family, base = coder_family(str(row["coder_name"])), str(row.get("base_model") or "")
        if base:
            family += VARIANT_SEPARATOR + str(row["model_name"])
        key = tuple(base if base and c == "model_name" else str(row.get(c, "")) for c in JOIN_COLUMNS)
        out[key][(split, family)].append(
            Point(rate, metric, str(row["coder_name"])))
    return {key: dict(curves) for key, curves in out.items()}


def _prepared(points: list[Point], higher: bool) -> tuple[Curve, int]:
    """The curve as given when strictly monotonic, else its Pareto front; and how many points were dropped."""
    curve = Curve.from_points("curve", [p.rate for p in points], [p.metric for p in points])
    if curve.monotonic_problem() is None:
        return curve, 0
    keep = pareto_front([p.rate for p in points], [p.metric for p in points], higher)
    return Curve.from_points("front", [points[i].rate for i in keep], [points[i].metric for i in keep]), \
        len(points) - len(keep)


def _cubic_monotonic(curve: Curve, interval: tuple[float, float]) -> bool:
    """Whether VCEG-M33's cubic log10(rate)(metric) of ``curve`` is monotonic over ``interval``: where it is not,
    the fit swings between the points (saturated accuracy does this) and its BD-KBPI is an artefact of the fit."""
    slope = np.polyder(np.polyfit(curve.metric, np.log10(curve.rate), 3))
    values = np.polyval(slope, np.linspace(*interval, 257))
    return bool(np.all(values >= 0) or np.all(values <= 0))


def bd_cell(anchor: list[Point], test: list[Point], method: str, higher: bool) -> BDCell:
    """BD-KBPI and BD-mAP of ``test`` against ``anchor`` with ``method``, problems named."""
    (curve_a, dropped_a), (curve_t, dropped_t) = _prepared(anchor, higher), _prepared(test, higher)
    problems = [NOT_MONOTONIC] if dropped_a or dropped_t else []
    points, dropped = (curve_a.rate.size, curve_t.rate.size), dropped_a + dropped_t
    if min(points) < MIN_POINTS[method]:
        return BDCell(None, None, tuple(problems + [TOO_FEW]), dropped, points,
                      f"{method} needs {MIN_POINTS[method]} points per curve")
    try:
        result = bd_delta(curve_a, curve_t, method)
    except ValueError as exc:  # neither the quality nor the rate ranges overlap
        return BDCell(None, None, tuple(problems + [NO_MAP_OVERLAP, NO_KBPI_OVERLAP]), dropped, points, str(exc))
    problems += [NO_MAP_OVERLAP] * (result.bd_rate_percent is None) + [NO_KBPI_OVERLAP] * (result.bd_metric is None)
    if method == "cubic" and result.metric_interval and not all(
            _cubic_monotonic(c, result.metric_interval) for c in (curve_a, curve_t)):
        problems.append(BAD_FIT)
    return BDCell(result.bd_rate_percent, result.bd_metric, tuple(problems), dropped, points,
                  "; ".join(result.warnings))


def _is_curve(points: list[Point]) -> bool:
    return len({p.rate for p in points}) >= 2


def _comparable(first: str, second: str) -> bool:
    """Families of one model compare with each other; a re-trained part 2's curve compares with its own coder
    family on the base model only (the gain of re-training), not with the base model's other families."""
    if VARIANT_SEPARATOR not in first + second:
        return True
    return first.split(VARIANT_SEPARATOR)[0] == second.split(VARIANT_SEPARATOR)[0]


def kbpi_group(key: tuple[str, ...], curves: Curves, anchor_request: str | None,
               methods: tuple[str, ...]) -> KbpiGroup:
    curves = {k: pts for k, pts in curves.items() if _is_curve(pts)}
    higher = higher_is_better(SPLIT_SCENARIO, key[-1])
    cloud_families = sorted(f for s, f in curves if s == CLOUD_SPLIT)
    anchor = resolve_anchor(anchor_request or DEFAULT_CLOUD_ANCHOR, cloud_families) if cloud_families else ""
    if anchor_request is None and cloud_families and anchor not in cloud_families:
        anchor = cloud_families[0]  # no HEVC intra sweep in this run: the first image family, named in the caption
    anchor_points = curves.get((CLOUD_SPLIT, anchor))
    splits = sorted({s for s, _ in curves if s != CLOUD_SPLIT}, key=split_sort_key)
    features = sorted({f for s, f in curves if s != CLOUD_SPLIT})
    against: dict[str, dict[tuple[str, str], BDCell]] = {m: {} for m in methods}
    between: dict[str, dict[tuple[str, str, str], BDCell]] = {m: {} for m in methods}
    for method in methods:
        for (split, family), points in curves.items():
            if anchor_points is not None and (split, family) != (CLOUD_SPLIT, anchor):
                against[method][(family, split)] = bd_cell(anchor_points, points, method, higher)
        for split in splits:
            for first, second in combinations(features, 2):
                if (split, first) in curves and (split, second) in curves and _comparable(first, second):
                    between[method][(first, second, split)] = bd_cell(curves[(split, first)],
                                                                      curves[(split, second)], method, higher)
    return KbpiGroup(key, anchor if anchor_points is not None else "", splits + [CLOUD_SPLIT] * bool(cloud_families),
                     features + cloud_families, against, between, curves)


def bd_kbpi_groups(rows: list[dict[str, Any]], anchor: str | None = None,
                   methods: tuple[str, ...] = METHODS) -> list[KbpiGroup]:
    """One :class:`KbpiGroup` per (model, data set, device, metric) that has split-inference curves."""
    groups = []
    for key, curves in sorted(kbpi_curves(rows).items()):
        if any(split != CLOUD_SPLIT and _is_curve(points) for (split, _), points in curves.items()):
            groups.append(kbpi_group(key, curves, anchor, methods))
    return groups
