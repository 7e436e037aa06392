"""Plots of a split sweep (the JSON of ``python -m harness sweep-splits``, harness.split.delivery.sweep_summary).

* :func:`plot_latency_vs_k`: end-to-end latency against configuration k, one panel per uplink bandwidth,
  stacked part 1 / transmission / part 2 (encode and decode are counted in the total; they are drawn with
  transmission), the best k marked;
* :func:`plot_intermediate_bytes_vs_k`: bytes sent against k (raw and coded) with the model input's size
  as a horizontal line: seed 002 Fig. 4's point that early splits send more than the image itself;
* :func:`summary_from_rows`: the sweep JSON rebuilt from results rows of the ``posenet`` / ``split_sweep``
  scenarios (one model, device and coder), so a report draws the same plots from results.json.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, Sequence

from harness.files import atomic_write


def _save(figure: Any, path: Path) -> Path:
    import io

    buffer = io.BytesIO()
    figure.savefig(buffer, format=Path(path).suffix.lstrip(".") or "png", dpi=110, bbox_inches="tight")
    atomic_write(Path(path), lambda handle: handle.write(buffer.getvalue()))
    return Path(path)


def plot_latency_vs_k(summary: dict[str, Any], path: Path, title: str = "") -> Path:
    """Stacked end-to-end latency per configuration, one panel per bandwidth; returns ``path``."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

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
    try:
        return _save(figure, path)
    finally:
        plt.close(figure)


def plot_intermediate_bytes_vs_k(summary: dict[str, Any], path: Path, input_bytes: int | None = None,
                                 title: str = "") -> Path:
    """Raw and coded bytes sent per configuration, the input size as a line (default: what k = 0 sends)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = sorted(summary["configs"], key=lambda r: r["k"])
    ks = [r["k"] for r in rows]
    if input_bytes is None:
        input_bytes = next((r["intermediate_bytes"] for r in rows if r["k"] == 0), None)
    figure, axis = plt.subplots(figsize=(7, 3.5))
    axis.plot(ks, [r["intermediate_bytes"] for r in rows], marker="o", markersize=3, label="intermediate (raw)")
    axis.plot(ks, [r["coded_bytes"] for r in rows], marker="s", markersize=3, label="coded")
    if input_bytes:
        axis.axhline(input_bytes, color="grey", linestyle="--", label="model input")
    axis.set_yscale("log")
    axis.set_xlabel("configuration k (layers on the device)")
    axis.set_ylabel("bytes sent")
    axis.legend(fontsize=8)
    axis.set_title(title or "data sent per split configuration")
    try:
        return _save(figure, path)
    finally:
        plt.close(figure)


def summary_from_rows(rows: Sequence[dict[str, Any]], bandwidths: Sequence[float], rtt_ms: float = 0.0
                      ) -> dict[str, Any]:
    """The sweep JSON of results rows of one model, device and coder (layer configurations only)."""
    from harness.split.delivery import ConfigCost, sweep_summary

    layer_rows = sorted((r for r in rows if isinstance(r.get("split"), int)), key=lambda r: r["split"])
    if not layer_rows:
        raise ValueError("no layer-configuration rows (split = k) to summarise")
    configs = [{"k": r["split"], "intermediate_bytes": r["intermediate_bytes"], "coded_bytes": r["coded_bytes"],
                "part1_model_bytes": r["part1_model_bytes"], "part2_model_bytes": r["part2_model_bytes"],
                "part1_ms": r["part1_ms"], "part2_ms": r["part2_ms"], "max_abs_diff": r["max_abs_diff"],
                "lossless": r["lossless"]} for r in layer_rows]
    costs = [ConfigCost(r["split"], r["part1_ms"], r["encode_ms"], r["coded_bytes"], r["decode_ms"], r["part2_ms"])
             for r in layer_rows]
    return sweep_summary(max(r["split"] for r in layer_rows), configs, costs, bandwidths, rtt_ms)
