"""Seed 000's published figures beside the run's own: graph nodes, split points, the anchor's calc_map, what fp16
saves and what NNCodec saves at the anchor's accuracy, per detector / data set / device of the ``ssd`` and
``retinanet`` scenarios (``references/seed_figures.yaml``).

The run's side is read from its rows alone: the anchor row's ``rec_perf``; fp16 rows' ``compress_ratio`` and
their largest drop of calc_map; among NNCodec rows whose ``perf_fraction_of_anchor`` is at least the file's
``same_accuracy_fraction``, the one that saves most (``1 - compress_ratio``) and where. The embedded detectors
are small models on generated images, so their figures are not the seed's; the table says how far the suite's
own run is from the published shape (fp16 saves about half and costs nothing; NNCodec saves more at no loss).
"""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from harness.files import REPO_ROOT
from harness.report.figures import SECTIONS, Page
from harness.report.load import as_float
from harness.report.markup import esc, fmt, note, table
from harness.scenarios.base import ANCHOR

SEED_FIGURES_PATH = REPO_ROOT / "references" / "seed_figures.yaml"
TEXT = ' class="t"'


@lru_cache(maxsize=2)
def seed_figures(path: Path = SEED_FIGURES_PATH) -> dict[str, Any]:
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    for key in ("detection", "outcomes", "same_accuracy_fraction"):
        if key not in data:
            raise ValueError(f"{path}: key {key!r} missing")
    return data


def _percent(value: float | None) -> str:
    return "" if value is None else f"{100 * value:.1f} %"


def _split_order(row: dict[str, Any]) -> tuple[int, float, str]:
    """Numeric split labels in numeric order (rows read back from CSV hold text), named cuts after them."""
    label = str(row.get("split"))
    value = as_float(label)
    return (0, value, "") if value is not None else (1, 0.0, label)


def run_figures(rows: list[dict[str, Any]], same_fraction: float) -> dict[str, Any]:
    """The run's side of the table for one group's rows (one detector, data set and device)."""
    anchor = next((as_float(r.get("rec_perf")) for r in rows if r.get("coder_name") == ANCHOR), None)
    cells = [r for r in rows if r.get("coder_name") != ANCHOR and as_float(r.get("compress_ratio")) is not None]
    fp16 = [r for r in cells if r.get("coder_name") == "fp16"]
    fp16_saved = [1 - as_float(r["compress_ratio"]) for r in fp16]
    fp16_drop = [as_float(r.get("anc_perf")) - as_float(r.get("rec_perf")) for r in fp16
                 if as_float(r.get("anc_perf")) is not None and as_float(r.get("rec_perf")) is not None]
    same = [r for r in cells if str(r.get("coder_name", "")).startswith("nncodec")
            and (as_float(r.get("perf_fraction_of_anchor")) or 0.0) >= same_fraction]
    best = max(same, key=lambda r: 1 - as_float(r["compress_ratio"]), default=None)
    nodes = next((r.get("graph_nodes") for r in cells if r.get("graph_nodes") not in (None, "")), None)
    placed = {str(r.get("split")): r["split_node_index"] for r in sorted(cells, key=_split_order)
              if r.get("split_node_index") not in (None, "")}
    return {
        "anchor": anchor,
        "nodes": nodes,
        "splits": placed or list(dict.fromkeys(str(r.get("split")) for r in sorted(cells, key=_split_order))),
        "fp16_saved": (min(fp16_saved), max(fp16_saved)) if fp16_saved else None,
        "fp16_drop": max(fp16_drop) if fp16_drop else None,
        "nncodec_best": best,
    }


def _split_text(splits: Any) -> str:
    if isinstance(splits, dict):
        return ", ".join(f"{label} → {index}" for label, index in splits.items())
    return ", ".join(map(str, splits))


def group_table(scenario: str, group: tuple[str, str, str], rows: list[dict[str, Any]], seed: dict[str, Any],
                data: dict[str, Any]) -> str:
    mine = run_figures(rows, float(data["same_accuracy_fraction"]))
    outcomes = data["outcomes"]
    saved = mine["fp16_saved"]
    best = mine["nncodec_best"]
    lines = [
        ("model", seed["model"], f"{group[0]} on {group[1]} ({group[2]})"),
        ("graph nodes", seed["nodes"], mine["nodes"] or ""),
        ("split points (seed index → node cut before)", _split_text(seed["splits"]), _split_text(mine["splits"])),
        ("data", seed["data"], group[1]),
        ("anchor calc_map", fmt(seed["anchor_calc_map"]), fmt(mine["anchor"])),
        ("fp16: size saved, largest calc_map drop", f"{outcomes['fp16_size_saved_percent']} %, none",
         "" if saved is None else f"{_percent(saved[0])} to {_percent(saved[1])}, {fmt(mine['fp16_drop'])} points"),
        (f"NNCodec: most size saved at ≥ {fmt(100 * float(data['same_accuracy_fraction']))} % of the anchor's calc_map",
         f"up to {outcomes['nncodec_size_saved_percent_at_anchor_accuracy']} %",
         "none at that accuracy" if best is None else
         f"{_percent(1 - as_float(best['compress_ratio']))} (split {best.get('split')}, {best.get('coder_name')})"),
    ]
    body = [f"<tr><td{TEXT}>{esc(a)}</td><td{TEXT}>{esc(b)}</td><td{TEXT}>{esc(c)}</td></tr>" for a, b, c in lines]
    return table(["figure", seed["source"], "this run"], body, f' data-scenario="{esc(scenario)}"',
                 caption=esc(f"{scenario}: {group[0]} / {group[1]} / {group[2]}"))


def seed_figures_section(rows: list[dict[str, Any]], data: dict[str, Any] | None = None) -> str:
    """``<h2>`` and one table per detector / data set / device of the seed's scenarios; "" without such rows."""
    data = data or seed_figures()
    tables = []
    for scenario, seed in data["detection"].items():
        groups: dict[tuple[str, str, str], list[dict[str, Any]]] = {}
        for row in rows:
            if row.get("scenario_name") == scenario and row.get("metric_name") == "calc_map":
                key = (str(row.get("model_name")), str(row.get("data_set_name")), str(row.get("device")))
                groups.setdefault(key, []).append(row)
        tables += [group_table(scenario, key, members, seed, data) for key, members in sorted(groups.items())]
    if not tables:
        return ""
    return ('<h2 id="seed-figures">Seed 000 figures beside this run</h2>'
            + note("Published figures of seed 000 (references/seed_figures.yaml) and the same figures read from "
                   "this run's rows. The embedded detectors are small models on generated images: their values "
                   "are not the seed's; the shape is what to compare.")
            + "".join(tables))


@SECTIONS.register("seed_figures")
def _seed_figures_page_section(page: Page) -> str:
    return seed_figures_section(page.rows)
