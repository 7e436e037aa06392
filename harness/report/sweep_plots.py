"""Plots of a split sweep (the JSON of ``python -m harness sweep-splits``, harness.split.delivery.sweep_summary).

* :func:`plot_latency_vs_k`: end-to-end latency against configuration k, one panel per uplink bandwidth,
  stacked part 1 / transmission / part 2 (encode and decode are counted in the total; they are drawn with
  transmission), the best k marked;
* :func:`plot_intermediate_bytes_vs_k`: bytes sent against k (raw and coded) with the model input's size
  as a horizontal line: seed 002 Fig. 4's point that early splits send more than the image itself;
* :func:`summary_from_rows`: the sweep JSON rebuilt from results rows of the ``posenet`` / ``split_sweep``
  scenarios (one model, device and coder), so a report draws the same plots from results.json.

The report's figures of those scenarios are registered with harness.report.figures.FIGURES when this module is
imported (the report imports every module of its package before it asks for figures).
"""
from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from harness.files import atomic_write
from harness.report.figures import FIGURES, Figure


def _png(figure: Any) -> bytes:
    import io

    import matplotlib.pyplot as plt

    buffer = io.BytesIO()
    try:
        figure.savefig(buffer, format="png", dpi=110, bbox_inches="tight", metadata={"Software": None})
    finally:
        plt.close(figure)
    return buffer.getvalue()


def _save(figure: Any, path: Path) -> Path:
    data = _png(figure) if Path(path).suffix in ("", ".png") else _other(figure, Path(path).suffix.lstrip("."))
    atomic_write(Path(path), lambda handle: handle.write(data))
    return Path(path)


def _other(figure: Any, fmt: str) -> bytes:
    import io

    import matplotlib.pyplot as plt

    buffer = io.BytesIO()
    try:
        figure.savefig(buffer, format=fmt, dpi=110, bbox_inches="tight")
    finally:
        plt.close(figure)
    return buffer.getvalue()


def _pyplot() -> Any:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def latency_figure(summary: dict[str, Any], title: str = "") -> Any:
    """Stacked end-to-end latency per configuration, one panel per bandwidth (a matplotlib figure)."""
    plt = _pyplot()
    configs = {row["k"]: row for row in summary["configs"]}
    bandwidths = summary["bandwidths_mbps"]
    columns = min(3, len(bandwidths))
    rows_count = -(-len(bandwidths) // columns)
    figure, axes = plt.subplots(rows_count, columns, figsize=(5 * columns, 3.2 * rows_count), squeeze=False,
                                sharey=True)
    for axis, bandwidth in zip(axes.flat, bandwidths):
        latency = sorted((r for r in summary["latency"] if r["bandwidth_mbps"] == bandwidth), key=lambda r: r["k"])
        ks = [r["k"] for r in latency]
        part1 = [configs[k]["part1_ms"] for k in ks]
        part2 = [configs[k]["part2_ms"] for k in ks]
        network = [r["total_ms"] - p1 - p2 for r, p1, p2 in zip(latency, part1, part2)]
        axis.bar(ks, part1, label="part 1 (device)")
        axis.bar(ks, network, bottom=part1, label="encode + transmission + decode")
        axis.bar(ks, part2, bottom=[a + b for a, b in zip(part1, network)], label="part 2 (network)")
        best = summary["best"].get(f"{bandwidth:g}")
        if best is not None:
            axis.axvline(best, color="black", linestyle=":", linewidth=1)
        axis.set_title(f"{bandwidth:g} Mbit/s uplink (best k = {best})", fontsize=9)
        axis.set_xlabel("configuration k (layers on the device)")
    for axis in axes[:, 0]:
        axis.set_ylabel("end-to-end latency (ms)")
    for axis in list(axes.flat)[len(bandwidths):]:
        axis.set_visible(False)
    axes.flat[0].legend(fontsize=7)
    figure.suptitle(title or "end-to-end latency per split configuration")
    figure.tight_layout()  # panel titles clear of the x labels of the row above
    return figure


def plot_latency_vs_k(summary: dict[str, Any], path: Path, title: str = "") -> Path:
    """:func:`latency_figure` written to ``path``; returns ``path``."""
    return _save(latency_figure(summary, title), path)


def bytes_figure(summaries: dict[str, dict[str, Any]], input_bytes: int | None = None, title: str = "") -> Any:
    """Raw bytes per configuration (of the first summary: the cut does not depend on the coder), the coded bytes
    of each summary (one line per coder, labelled by its key), the input size as a line (default: what k = 0
    sends)."""
    plt = _pyplot()
    first = sorted(next(iter(summaries.values()))["configs"], key=lambda r: r["k"])
    if input_bytes is None:
        input_bytes = next((r["intermediate_bytes"] for r in first if r["k"] == 0), None)
    figure, axis = plt.subplots(figsize=(7, 3.5))
    axis.plot([r["k"] for r in first], [r["intermediate_bytes"] for r in first], marker="o", markersize=3,
              label="intermediate (raw)")
    for label, summary in summaries.items():
        rows = sorted(summary["configs"], key=lambda r: r["k"])
        axis.plot([r["k"] for r in rows], [r["coded_bytes"] for r in rows], marker="s", markersize=3, label=label)
    if input_bytes:
        axis.axhline(input_bytes, color="grey", linestyle="--", label="model input")
    axis.set_yscale("log")
    axis.set_xlabel("configuration k (layers on the device)")
    axis.set_ylabel("bytes sent")
    axis.legend(fontsize=8)
    axis.set_title(title or "data sent per split configuration")
    return figure


def plot_intermediate_bytes_vs_k(summary: dict[str, Any], path: Path, input_bytes: int | None = None,
                                 title: str = "") -> Path:
    """Raw and coded bytes sent per configuration, the input size as a line (default: what k = 0 sends)."""
    return _save(bytes_figure({"coded": summary}, input_bytes, title), path)


CONFIG_COLUMNS = ("intermediate_bytes", "coded_bytes", "part1_model_bytes", "part2_model_bytes", "part1_ms",
                  "part2_ms", "max_abs_diff", "lossless")
COST_COLUMNS = ("part1_ms", "encode_ms", "coded_bytes", "decode_ms", "part2_ms")


def layer_k(split: Any) -> int | None:
    """The layer configuration k of a row's split (an int, or its text in results read back), None for the
    node-index cuts (``n10``) and anything else."""
    if isinstance(split, bool):
        return None
    if isinstance(split, int):
        return split
    text = str(split if split is not None else "").strip()
    return int(text) if text.isdigit() else None


def summary_from_rows(rows: Sequence[dict[str, Any]], bandwidths: Sequence[float], rtt_ms: float = 0.0
                      ) -> dict[str, Any]:
    """The sweep JSON of results rows of one model, device and coder (layer configurations only; the first row
    of a configuration recorded twice)."""
    from harness.split.delivery import ConfigCost, sweep_summary

    by_k: dict[int, dict[str, Any]] = {}
    for row in rows:
        k = layer_k(row.get("split"))
        if k is not None:
            by_k.setdefault(k, row)
    if not by_k:
        raise ValueError("no layer-configuration rows (split = k) to summarise")
    for k, row in by_k.items():
        missing = [c for c in {*CONFIG_COLUMNS, *COST_COLUMNS} if row.get(c) is None]
        if missing:
            raise ValueError(f"sweep row of configuration k = {k} lacks {', '.join(sorted(missing))}")
    layer_rows = [by_k[k] for k in sorted(by_k)]
    configs = [{"k": layer_k(r["split"]), **{c: r[c] for c in CONFIG_COLUMNS}} for r in layer_rows]
    costs = [ConfigCost(layer_k(r["split"]), *(r[c] for c in COST_COLUMNS)) for r in layer_rows]
    return sweep_summary(max(by_k), configs, costs, bandwidths, rtt_ms)


# --- the report's figures of sweep scenarios (harness.report.figures registry) ------------------------------
SEED_SECTION = {"posenet": "seed 001 §10.2", "split_sweep": "seed 001 §10.3.5-10.3.7"}


def bandwidths_of(rows: Sequence[dict[str, Any]]) -> list[float]:
    """The uplink bandwidths the rows were costed at (their ``e2e_ms_<bw>`` columns), ascending."""
    found = {key[len("e2e_ms_"):] for row in rows for key in row if key.startswith("e2e_ms_")}
    return sorted(float(b) for b in found if b.replace(".", "", 1).isdigit())


def sweep_summaries(rows: Sequence[dict[str, Any]]) -> dict[tuple[str, str], dict[str, dict[str, Any]]]:
    """(model, device) -> coder -> sweep JSON, for the groups with two or more layer configurations whose rows
    carry every sweep column (skipped or failed cells do not)."""
    groups: dict[tuple[str, str, str], list[dict[str, Any]]] = {}
    for row in rows:
        if layer_k(row.get("split")) is not None and all(row.get(c) is not None for c in CONFIG_COLUMNS):
            key = (str(row.get("model_name", "")), str(row.get("device", "")), str(row.get("coder_name", "")))
            groups.setdefault(key, []).append(row)
    out: dict[tuple[str, str], dict[str, dict[str, Any]]] = {}
    for (model, device, coder), members in sorted(groups.items()):
        bandwidths = bandwidths_of(members)
        if len({layer_k(r["split"]) for r in members}) < 2 or not bandwidths:
            continue
        try:
            summary = summary_from_rows(members, bandwidths, float(members[0].get("rtt_ms") or 0.0))
        except ValueError:  # a row without its latency columns: no plot rather than a half-drawn one
            continue
        out.setdefault((model, device), {})[coder] = summary
    return out


@FIGURES.register("split_sweep_plots")
def _sweep_figures(scenario: str, rows: list[dict[str, Any]]) -> list[Figure]:
    seed = SEED_SECTION.get(scenario, "split sweep")
    out = []
    for (model, device), summaries in sweep_summaries(rows).items():
        where = " / ".join(p for p in (scenario, model, device) if p)
        out.append(Figure(_png(bytes_figure(summaries, title=f"{where}: bytes sent per configuration")),
                          f"{where}: intermediate (raw) and coded bytes per layer configuration k, one line per "
                          f"coder, the model input dashed ({seed})"))
        for coder, summary in summaries.items():
            best = ", ".join(f"{b} Mbit/s: k = {k}" for b, k in summary["best"].items())
            out.append(Figure(_png(latency_figure(summary, f"{where} / {coder}: end-to-end latency")),
                              f"{where} / {coder}: end-to-end latency per layer configuration k at each uplink "
                              f"bandwidth, part 1 / coding and transmission / part 2 stacked; best {best} ({seed})"))
    return out

