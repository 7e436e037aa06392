"""Rate/metric curves from results rows, and the Bjontegaard tables of the report.

Choice (documented in the report): an RD curve is one codec *family* at one split point, swept over its
rate parameter, both as the coder class declares them (``Coder.family``, ``Coder.rate_param``: ``nncodec``
over ``qp``, ``qlayer`` over ``bits``; see harness.report.describe for specs this build does not know). The rate is ``rec_size``
(bytes per evaluated set; BD-rate is a ratio, so this equals seed 002's BD-KBPI when both curves cover the
same images). Two tables are built per (scenario, model, data set, device, metric):

* codec vs anchor codec at the same split (``--anchor``; default ``nncodec``, else the first family that
  forms a curve), seed 002's "which coding is cheaper at equal mAP";
* split vs anchor split for the same codec family (``--anchor-split``; default the lowest split index),
  seed 002 Table 1's "where to split".

Single-point coders (``raw``, ``fp16``) are no curves and get no delta. Curves are reduced to their
Pareto front (points beaten by a cheaper one are dropped and counted) because saturated accuracy makes
real curves non-monotonic; the direction of "better" is the scenario's declared Metric.higher_is_better.
Then PCHIP is used, which works from 2 points.
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from harness.report.bd import Curve, bd_delta, pareto_front
from harness.report.describe import coder_view, higher_is_better, is_coder_row
from harness.report.load import as_float

DEFAULT_ANCHOR_FAMILIES = ("nncodec",)
GROUP_COLUMNS = ("scenario_name", "model_name", "data_set_name", "device", "metric_name")


def coder_family(coder_name: str) -> str:
    """The family the coder declares (canonical spec without its rate parameter): ``nncodec:qp=-26`` ->
    ``nncodec:dq=1,...``; a spec this build does not know is its own family."""
    return coder_view(coder_name).family


def split_sort_key(split: str) -> tuple[int, float, str]:
    value = as_float(split)
    return (0, value, "") if value is not None else (1, 0.0, split)


def group_title(group: tuple[str, ...]) -> str:
    return " / ".join(part for part in group if part)


@dataclass
class Point:
    rate: float
    metric: float
    coder: str


def rd_points(rows: list[dict[str, Any]]) -> dict[tuple[str, ...], dict[tuple[str, str], list[Point]]]:
    """group -> (split, family) -> points with a numeric rec_size and rec_perf."""
    out: dict[tuple[str, ...], dict[tuple[str, str], list[Point]]] = defaultdict(lambda: defaultdict(list))
    for row in rows:
        if not is_coder_row(row):
            continue
        rate, metric = as_float(row.get("rec_size")), as_float(row.get("rec_perf"))
        if rate is None or metric is None or rate <= 0 or metric != metric:
            continue
        group = tuple(str(row.get(c, "")) for c in GROUP_COLUMNS)
        out[group][(str(row.get("split", "")), coder_family(str(row["coder_name"])))].append(
            Point(rate, metric, str(row["coder_name"])))
    return out


def resolve_anchor(requested: str | None, families: list[str]) -> str:
    """The anchor family: the family of ``requested`` (a family or any spec of it: ``nncodec``,
    ``qlayer:bits=8``), else the first family of that coder name (``nncodec`` matches ``nncodec:dq=1``); default
    ``nncodec``, else the first family. A name absent from ``families`` is kept (that group has no codec table)."""
    for wanted in ([requested] if requested else list(DEFAULT_ANCHOR_FAMILIES)):
        for candidate in (wanted, coder_family(wanted)):
            if candidate in families:
                return candidate
        match = next((f for f in families if f.split(":", 1)[0] == wanted.split(":", 1)[0]), None)
        if match:
            return match
    return requested or families[0]


def _front(points: list[Point], higher_is_better: bool) -> tuple[list[Point], int]:
    keep = pareto_front([p.rate for p in points], [p.metric for p in points], higher_is_better)
    return [points[i] for i in keep], len(points) - len(keep)


def _delta(anchor: list[Point], test: list[Point], names: tuple[str, str], higher: bool) -> dict[str, Any]:
    front_a, dropped_a = _front(anchor, higher)
    front_t, dropped_t = _front(test, higher)
    entry: dict[str, Any] = {"anchor": names[0], "test": names[1], "points": f"{len(front_a)} / {len(front_t)}",
                             "dropped": dropped_a + dropped_t}
    try:
        result = bd_delta(Curve.from_points(names[0], [p.rate for p in front_a], [p.metric for p in front_a]),
                          Curve.from_points(names[1], [p.rate for p in front_t], [p.metric for p in front_t]),
                          "pchip")
        entry.update(bd_rate_percent=result.bd_rate_percent, bd_metric=result.bd_metric,
                     note="; ".join(result.warnings))
    except ValueError as exc:
        entry.update(bd_rate_percent=None, bd_metric=None, note=str(exc))
    return entry


def bd_tables(rows: list[dict[str, Any]], anchor_family: str | None = None,
              anchor_split: str | None = None) -> list[dict[str, Any]]:
    """One entry per (group, comparison); see the module docstring for the choice of curves."""
    entries: list[dict[str, Any]] = []
    for group, curves in sorted(rd_points(rows).items()):
        higher = higher_is_better(group[0], group[-1])
        multi = {key: pts for key, pts in curves.items() if len({p.rate for p in pts}) >= 2}
        families = sorted({family for _, family in multi})
        splits = sorted({split for split, _ in multi}, key=split_sort_key)
        if not families:
            continue
        anchor = resolve_anchor(anchor_family, families)
        for split in splits:
            if (split, anchor) not in multi:
                continue
            for family in families:
                if family != anchor and (split, family) in multi:
                    entry = _delta(multi[(split, anchor)], multi[(split, family)], (anchor, family), higher)
                    entries.append({"group": group, "kind": "codec", "split": split, **entry})
        ref_split = anchor_split if anchor_split is not None else (splits[0] if splits else None)
        for family in families:
            if (ref_split, family) not in multi:
                continue
            for split in splits:
                if split != ref_split and (split, family) in multi:
                    entry = _delta(multi[(ref_split, family)], multi[(split, family)],
                                   (f"split {ref_split}", f"split {split}"), higher)
                    entries.append({"group": group, "kind": "split", "split": split, "family": family, **entry})
    return entries
