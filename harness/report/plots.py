"""Report figures as PNG bytes (matplotlib Agg, no pyplot state), in the styles of the seeds:

* seed 000 Figs. 1-2: metric per split point and coder (grouped bars);
* seed 000 Figs. 3-8: metric against compressed intermediate size, one line per split point (log x);
* seed 000 Figs. 9-10: metric against compressed/uncompressed size in percent, one series per split;
* seed 001 Fig. 10.1.9-1: metric (WER) against cSize = rec_size / anc_size, one line per codec family,
  with the anchor's value as a dashed line.

PNG metadata is cleared so the same rows give the same bytes on every run.
"""
from __future__ import annotations

import io
from collections import defaultdict
from typing import Any

import matplotlib

matplotlib.use("Agg")
from matplotlib.backends.backend_agg import FigureCanvasAgg  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from harness.report.curves import coder_family, split_sort_key  # noqa: E402
from harness.report.load import as_float  # noqa: E402

MARKERS = "osD^v<>pP*hX"


def _png(figure: Figure) -> bytes:
    FigureCanvasAgg(figure)
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=90, metadata={"Software": None}, bbox_inches="tight")
    return buffer.getvalue()


def _coder_order(coders: set[str]) -> list[str]:
    """raw, fp16, then codecs by family and rate parameter value."""
    def key(coder: str) -> tuple:
        family = coder_family(coder)
        params = dict(p.split("=", 1) for p in coder.partition(":")[2].split(",") if "=" in p)
        value = next((as_float(params[k]) for k in ("qp", "bits") if k in params), None)
        return ({"raw": 0, "fp16": 1}.get(family, 2), family, value if value is not None else 0.0, coder)
    return sorted(coders, key=key)


def _values(rows: list[dict[str, Any]], column: str) -> list[tuple[str, str, float, float]]:
    """(split, coder, x, metric) for rows with a numeric ``column`` and rec_perf."""
    out = []
    for row in rows:
        x, y = as_float(row.get(column)), as_float(row.get("rec_perf"))
        if x is not None and y is not None:
            out.append((str(row.get("split", "")), str(row["coder_name"]), x, y))
    return out


def metric_by_split_and_coder(rows: list[dict[str, Any]], title: str, metric: str) -> bytes:
    cells = {(split, coder): y for split, coder, _, y in _values(rows, "rec_perf")}
    splits = sorted({s for s, _ in cells}, key=split_sort_key)
    coders = _coder_order({c for _, c in cells})
    figure = Figure(figsize=(max(6.0, 1.1 * len(splits) + 3), 4.2))
    ax = figure.add_subplot()
    width = 0.8 / max(1, len(coders))
    cmap = matplotlib.colormaps["tab20"]
    for j, coder in enumerate(coders):
        xs = [i + (j - (len(coders) - 1) / 2) * width for i, s in enumerate(splits) if (s, coder) in cells]
        ys = [cells[(s, coder)] for s in splits if (s, coder) in cells]
        ax.bar(xs, ys, width=width, label=coder, color=cmap(j % 20))
    ax.set_xticks(range(len(splits)), [f"node {s}" if s else "-" for s in splits])
    ax.set_xlabel("split point")
    ax.set_ylabel(metric)
    ax.set_title(title)
    ax.legend(fontsize=7, ncol=2, loc="center left", bbox_to_anchor=(1.0, 0.5))
    ax.grid(axis="y", alpha=0.3)
    return _png(figure)


def _lines_per_split(rows: list[dict[str, Any]], column: str, scale: float, title: str, xlabel: str,
                     metric: str, log_x: bool, linestyle: str = "-") -> bytes:
    series: dict[str, list[tuple[float, float, str]]] = defaultdict(list)
    for split, coder, x, y in _values(rows, column):
        series[split].append((x * scale, y, coder))
    figure = Figure(figsize=(7.5, 4.5))
    ax = figure.add_subplot()
    for j, split in enumerate(sorted(series, key=split_sort_key)):
        points = sorted(series[split])
        ax.plot([p[0] for p in points], [p[1] for p in points], marker=MARKERS[j % len(MARKERS)],
                linestyle=linestyle, label=f"split node {split}" if split else "no split")
    if log_x:
        ax.set_xscale("log")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(metric)
    ax.set_title(title)
    ax.grid(alpha=0.3, which="both")
    ax.legend(fontsize=7, loc="center left", bbox_to_anchor=(1.0, 0.5))
    return _png(figure)


def metric_vs_size(rows: list[dict[str, Any]], title: str, metric: str) -> bytes:
    return _lines_per_split(rows, "rec_size", 1.0, title, "compressed intermediate size (bytes)", metric, True)


def metric_vs_ratio(rows: list[dict[str, Any]], title: str, metric: str) -> bytes:
    return _lines_per_split(rows, "compress_ratio", 100.0, title,
                            "compressed / uncompressed intermediate size (%)", metric, False, linestyle="none")


def metric_vs_csize(rows: list[dict[str, Any]], title: str, metric: str) -> bytes:
    """Seed 001 Fig. 10.1.9-1: (cSize, metric) per codec family, anchor value as a dashed line."""
    series: dict[str, list[tuple[float, float]]] = defaultdict(list)
    anchors = set()
    for row in rows:
        x, y = as_float(row.get("compress_ratio")), as_float(row.get("rec_perf"))
        anchor = as_float(row.get("anc_perf"))
        if anchor is not None:
            anchors.add(anchor)
        if x is not None and y is not None:
            series[coder_family(str(row["coder_name"]))].append((x, y))
    figure = Figure(figsize=(7.0, 4.5))
    ax = figure.add_subplot()
    for j, family in enumerate(sorted(series)):
        points = sorted(series[family])
        ax.plot([p[0] for p in points], [p[1] for p in points], marker=MARKERS[j % len(MARKERS)], label=family)
    for value in sorted(anchors):
        ax.axhline(value, linestyle="--", color="grey", linewidth=1)
    if anchors:
        ax.plot([], [], linestyle="--", color="grey", label=f"{metric} anchor")
    ax.set_xlabel("cSize = compressed size / anchor size")
    ax.set_ylabel(metric)
    ax.set_title(title)
    ax.grid(alpha=0.3)
    if series or anchors:
        ax.legend(fontsize=7)
    return _png(figure)
