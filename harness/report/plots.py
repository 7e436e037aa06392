"""Report figures as PNG bytes (matplotlib Agg, no pyplot state), in the styles of the seeds.

Every function takes the rows of one group (one scenario/model/data set/device/metric) and returns the PNG,
or None when there is nothing to draw: the report never shows an empty plot or one with only an anchor line.

* seed 000 Figs. 1-2: metric per split point, one panel per coder family, one line per rate point;
* seed 000 Figs. 3-4: metric against compressed size at each split point, one line per coder family with its
  rate points labelled (``-26`` for nncodec qp=-26);
* seed 000 Figs. 5-8: metric against compressed size, one line per split point (log x);
* seed 000 Figs. 9-10: metric against compressed/uncompressed size in percent, one series per split;
* seed 001 Fig. 10.1.9-1: metric against cSize = rec_size / anc_size, one line per coder family with labelled
  rate points, the anchor's value as a dashed line; the one drawing of that figure, also for the ASR test
  case's own PNG (:func:`save_rd_plot`, with the range of table 10.1.9-1 shaded).

Families, labels and rate order come from the coders' declarations (harness.report.describe). PNG metadata is
cleared so the same rows give the same bytes on every run.
"""
from __future__ import annotations

import io
import math
from collections import defaultdict
from pathlib import Path
from typing import Any, Sequence

import matplotlib

matplotlib.use("Agg")
from matplotlib.backends.backend_agg import FigureCanvasAgg  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from harness.files import atomic_write  # noqa: E402
from harness.report.curves import split_sort_key  # noqa: E402
from harness.report.describe import VARIANT_SEPARATOR, coder_view, family_label, is_coder_row  # noqa: E402
from harness.report.load import as_float  # noqa: E402

MARKERS = "osD^v<>pP*hX"
COLOURS = matplotlib.colormaps["tab10"]


def png(figure: Figure, tight: bool = True) -> bytes:
    """PNG bytes; ``tight`` crops to the drawn area (costly on panel grids, which are laid out by hand)."""
    FigureCanvasAgg(figure)
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=90, metadata={"Software": None},
                   **({"bbox_inches": "tight"} if tight else {}))
    return buffer.getvalue()


def size_column(rows: list[dict[str, Any]]) -> tuple[str, str]:
    """(column, axis label) of the compressed size: KBPI when the rows carry it (seed 002), else rec_size."""
    if any(as_float(r.get("kbpi")) is not None for r in rows):
        return "kbpi", "KBPI (kbit per image)"
    return "rec_size", "compressed size (bytes)"


def points(rows: list[dict[str, Any]], x_column: str, scale: float = 1.0) -> list[dict[str, Any]]:
    """Coder rows with a finite positive-or-zero x and a finite metric, as plain dicts."""
    out = []
    for row in rows:
        x, y = as_float(row.get(x_column)), as_float(row.get("rec_perf"))
        if not is_coder_row(row) or x is None or y is None or not (math.isfinite(x) and math.isfinite(y)):
            continue
        view = coder_view(str(row["coder_name"]))
        out.append({"split": str(row.get("split", "")), "x": x * scale, "y": y, "view": view})
    return out


def _families(pts: list[dict[str, Any]]) -> list[str]:
    first = {}
    for p in sorted(pts, key=lambda p: p["view"].sort_key()):
        first.setdefault(p["view"].family, len(first))
    return sorted(first, key=first.get)


def _rate_text(view: Any) -> str:
    return "" if view.rate is None else str(view.rate)


def _family_line(ax: Any, pts: list[dict[str, Any]], family: str, index: int, label_points: bool) -> None:
    mine = sorted((p for p in pts if p["view"].family == family), key=lambda p: p["view"].sort_key())
    ax.plot([p["x"] for p in mine], [p["y"] for p in mine], marker=MARKERS[index % len(MARKERS)],
            color=COLOURS(index % 10), label=family_label(family), linewidth=1.2, markersize=4)
    if label_points:
        for p in mine:
            if p["view"].rate is not None:
                ax.annotate(_rate_text(p["view"]), (p["x"], p["y"]), textcoords="offset points", xytext=(3, 3),
                            fontsize=6, color=COLOURS(index % 10))


def _finish(ax: Any, title: str, xlabel: str, ylabel: str, log_x: bool = False, legend: bool = True) -> None:
    if log_x:
        ax.set_xscale("log")
    ax.set_xlabel(xlabel, fontsize=8)
    ax.set_ylabel(ylabel, fontsize=8)
    ax.set_title(title, fontsize=9)
    ax.tick_params(labelsize=7)
    ax.grid(alpha=0.3, which="both")
    if legend and ax.get_legend_handles_labels()[0]:
        ax.legend(fontsize=7)


def _grid(count: int, width: float = 3.6, height: float = 3.0) -> tuple[Figure, list[Any]]:
    """A grid of at most 4 panels per line with fixed margins in inches (a constrained layout costs seconds on a
    7-panel grid): room for the suptitle above, the x labels below each panel."""
    columns = min(count, 4)
    rows = math.ceil(count / columns)
    total = height * rows + 0.5
    figure = Figure(figsize=(width * columns, total))
    axes = figure.subplots(rows, columns, squeeze=False).ravel().tolist()
    figure.subplots_adjust(left=0.5 / (width * columns), right=1 - 0.15 / (width * columns), bottom=0.5 / total,
                           top=1 - 0.75 / total, wspace=0.3, hspace=0.5)
    for ax in axes[count:]:
        ax.set_visible(False)
    return figure, axes[:count]


def metric_by_split(rows: list[dict[str, Any]], title: str, metric: str) -> bytes | None:
    """Figs. 1-2: metric per split point; a panel per family, a line per rate point (short legend)."""
    pts = [p for p in points(rows, "rec_perf") if p["split"]]
    if not pts:
        return None
    splits = sorted({p["split"] for p in pts}, key=split_sort_key)
    families = _families(pts)
    single = [f for f in families if all(p["view"].rate is None for p in pts if p["view"].family == f)]
    panels = ([("single-point coders", single)] if single else []) + [(family_label(f), [f]) for f in families
                                                                    if f not in single]
    figure, axes = _grid(len(panels))
    for ax, (name, members) in zip(axes, panels):
        mine = sorted((p for p in pts if p["view"].family in members), key=lambda p: p["view"].sort_key())
        labels = list(dict.fromkeys(p["view"].label for p in mine))
        cmap = matplotlib.colormaps["viridis"]
        for j, label in enumerate(labels):
            by_split = {p["split"]: p["y"] for p in mine if p["view"].label == label}
            xs = [i for i, s in enumerate(splits) if s in by_split]
            ax.plot(xs, [by_split[splits[i]] for i in xs], marker=MARKERS[j % len(MARKERS)], markersize=4,
                    color=cmap(j / max(1, len(labels) - 1)) if len(labels) > 1 else COLOURS(0),
                    label=label.split(" ", 1)[-1] if len(members) == 1 else label, linewidth=1)
        ax.set_xticks(range(len(splits)), splits)
        _finish(ax, name, "split point (node index)", metric)
        if len(labels) > 5:
            ax.legend(fontsize=6, ncol=2)
    figure.suptitle(title, fontsize=10)
    return png(figure, tight=False)


def rd_per_split(rows: list[dict[str, Any]], title: str, metric: str) -> bytes | None:
    """Figs. 3-4: per split point, metric against size, one line per family, rate points labelled."""
    column, xlabel = size_column(rows)
    pts = [p for p in points(rows, column) if p["split"] and p["x"] > 0]
    if not pts:
        return None
    splits = sorted({p["split"] for p in pts}, key=split_sort_key)
    families = _families(pts)
    figure, axes = _grid(len(splits))
    for ax, split in zip(axes, splits):
        mine = [p for p in pts if p["split"] == split]
        for index, family in enumerate(families):
            if any(p["view"].family == family for p in mine):
                _family_line(ax, mine, family, index, label_points=True)
        _finish(ax, f"split at node {split}", xlabel, metric, log_x=True, legend=ax is axes[0])
    figure.suptitle(title, fontsize=10)
    return png(figure, tight=False)


def _lines_per_split(pts: list[dict[str, Any]], title: str, xlabel: str, metric: str, log_x: bool,
                     linestyle: str) -> bytes | None:
    if not pts:
        return None
    series: dict[str, list[tuple[float, float]]] = defaultdict(list)
    for p in pts:
        series[p["split"]].append((p["x"], p["y"]))
    figure = Figure(figsize=(7.5, 4.5))
    ax = figure.add_subplot()
    for j, split in enumerate(sorted(series, key=split_sort_key)):
        xy = sorted(series[split])
        ax.plot([p[0] for p in xy], [p[1] for p in xy], marker=MARKERS[j % len(MARKERS)], markersize=4,
                linestyle=linestyle, color=COLOURS(j % 10), label=f"split node {split}")
    _finish(ax, title, xlabel, metric, log_x=log_x, legend=False)
    ax.legend(fontsize=7, loc="center left", bbox_to_anchor=(1.0, 0.5))
    return png(figure)


def metric_vs_size(rows: list[dict[str, Any]], title: str, metric: str) -> bytes | None:
    """Figs. 5-8: one line per split point through all coders, by size."""
    column, xlabel = size_column(rows)
    pts = [p for p in points(rows, column) if p["split"] and p["x"] > 0]
    return _lines_per_split(pts, title, xlabel, metric, True, "-")


def metric_vs_ratio(rows: list[dict[str, Any]], title: str, metric: str) -> bytes | None:
    """Figs. 9-10: metric against compressed/uncompressed size in percent, per split."""
    pts = [p for p in points(rows, "compress_ratio", 100.0) if p["split"]]
    return _lines_per_split(pts, title, "compressed / uncompressed intermediate size (%)", metric, False, "none")


def metric_vs_csize(rows: list[dict[str, Any]], title: str, metric: str, band: float | None = None) -> bytes | None:
    """Seed 001 Fig. 10.1.9-1: (cSize, metric) per family, rate points labelled, anchor as a dashed line;
    ``band`` (metric units) shades [anchor, anchor + band]: the range of table 10.1.9-1's test case."""
    pts = points(rows, "compress_ratio")
    if not pts:
        return None
    anchors = sorted({a for a in (as_float(r.get("anc_perf")) for r in rows if is_coder_row(r)) if a is not None})
    figure = Figure(figsize=(7.0, 4.5))
    ax = figure.add_subplot()
    for index, family in enumerate(_families(pts)):
        _family_line(ax, pts, family, index, label_points=True)
    for value in anchors:
        ax.axhline(value, linestyle="--", color="grey", linewidth=1)
    if anchors:
        ax.plot([], [], linestyle="--", color="grey", label=f"{metric} anchor")
    if band is not None:
        for index, value in enumerate(anchors):
            ax.axhspan(value, value + band, color="grey", alpha=0.15,
                       label=f"anchor + {band:g}" if index == 0 else None)
    _finish(ax, title, "cSize = compressed size / anchor size", metric)
    return png(figure)


def save_rd_plot(points: Sequence[Any], wer_anc: float, path: Path, title: str, range_points: float = 5.0) -> Path:
    """The ASR test case's Fig. 10.1.9-1 as a PNG file: its points (harness.asr.rd_report.RdPoint) drawn by
    :func:`metric_vs_csize` like the report's figure, WER in percent, [werAnc, werAnc + range_points] shaded;
    written atomically."""
    from harness.asr.rd_report import rd_rows

    image = metric_vs_csize(rd_rows(points, wer_anc), title, "wer [%]", band=range_points)
    if image is None:
        raise ValueError(f"{title}: no coded point to draw")
    atomic_write(Path(path), lambda handle: handle.write(image))
    return Path(path)


def kbpi_per_split(curves: dict[tuple[str, str], list[Any]], title: str, metric: str, anchor: str,
                   cloud_split: str = "cloud") -> bytes | None:
    """Seed 002 Fig. 5: per split point, metric against KBPI, one line per coder family (a re-trained part 2's
    ``<family> @ <detector>`` dashed), the cloud-only anchor family in green on every panel."""
    splits = sorted({s for s, _ in curves if s != cloud_split}, key=split_sort_key)
    if not splits:
        return None
    families = sorted({f for s, f in curves if s != cloud_split})
    anchor_points = sorted(curves.get((cloud_split, anchor), []), key=lambda p: p.rate)
    figure, axes = _grid(len(splits))
    for ax, split in zip(axes, splits):
        if anchor_points:
            ax.plot([p.rate for p in anchor_points], [p.metric for p in anchor_points], color="tab:green",
                    linestyle="--", marker="s", markersize=3, linewidth=1.2,
                    label=f"cloud only: {family_label(anchor)}")
        for index, family in enumerate(families):
            mine = sorted(curves.get((split, family), []), key=lambda p: p.rate)
            if mine:
                ax.plot([p.rate for p in mine], [p.metric for p in mine], marker=MARKERS[index % len(MARKERS)],
                        color=COLOURS((index + (index >= 2)) % 10),  # green is the cloud-only anchor's
                        linestyle="--" if VARIANT_SEPARATOR in family else "-", linewidth=1.2,
                        markersize=4, label=family_label(family))
        _finish(ax, f"split at node {split}", "KBPI (kbit per image)", metric, log_x=True, legend=False)
    fullest = max(axes, key=lambda ax: len(ax.get_lines()))  # the legend where most curves are (a re-trained one)
    fullest.legend(fontsize=7)
    figure.suptitle(title, fontsize=10)
    return png(figure, tight=False)
