"""Seed 001 §9.4's table layout for the ``sfu`` scenario: a row per sequence, a column per object class, the
anchor's AP per class, in calc_map style and in COCO style (pycocotools), one table per detector and device.

Read from the anchor rows' ``per_class_calc_map`` / ``per_class_coco_AP`` columns (``name=AP`` pairs of the
classes a sequence annotates, harness.scenarios.sfu); a class a sequence does not annotate is an empty cell.
Each split x coder row carries the same two columns in the full table.
"""
from __future__ import annotations

from typing import Any

from harness.datasets.sfu_hw_objects import SFU_CLASSES
from harness.report.figures import SECTIONS, Page
from harness.report.markup import esc, fmt, note, table
from harness.scenarios.base import ANCHOR

SCENARIO = "sfu"
DERIVE = "derive"
# (per-class column, style, the all-classes column of the same style)
STYLES = (("per_class_calc_map", "calc_map", "rec_perf"), ("per_class_coco_AP", "COCO AP", "map_coco_AP"))
TEXT = ' class="t"'
CLASS_ORDER = {name: rank for rank, name in enumerate(SFU_CLASSES.values())}  # the seed's 21-class id order


def parse_per_class(text: Any) -> dict[str, float]:
    """``"person=51.20;car=40.00"`` -> {"person": 51.2, "car": 40.0}; an unreadable pair is left out."""
    values = {}
    for pair in str(text or "").split(";"):
        name, _, value = pair.partition("=")
        try:
            values[name.strip()] = float(value)
        except ValueError:
            continue
    return values


def _sequence(row: dict[str, Any]) -> str:
    return str(row.get("data_set_name", "")).removeprefix("sfu-")


def _frame_count(row: dict[str, Any]) -> Any:
    """Frames scored: ``frame_count``; a row written before it had ``frames`` alone (a run of whole sequences)."""
    return row.get("frame_count", row.get("frames"))


def _class_table(members: list[dict[str, Any]], label: Any, count: tuple[str, Any], model: str, device: str,
                 caption: str) -> list[str]:
    """One table per style: a row per member (``label(row)`` first, then the ``count`` (header, value of a row)),
    a column per class seen."""
    tables = []
    for column, style, overall in STYLES:
        parsed = [(r, parse_per_class(r.get(column))) for r in members]
        seen = {name for _, values in parsed for name in values}
        classes = sorted(seen, key=lambda name: (CLASS_ORDER.get(name, len(CLASS_ORDER)), name))
        if not classes:
            continue
        heads = [head for head, _ in label]
        body = ["<tr>" + "".join(f"<td{TEXT}>{esc(value(r))}</td>" for _, value in label)
                + f"<td>{esc(fmt(count[1](r)))}</td>"
                + "".join(f"<td>{esc(fmt(values.get(name)))}</td>" for name in classes)
                + f"<td>{esc(fmt(r.get(overall)))}</td></tr>"
                for r, values in parsed]
        tables.append(table([*heads, count[0], *classes, "all classes"], body,
                            f' data-style="{esc(style)}" data-model="{esc(model)}"',
                            caption=esc(f"{model} ({device}): {caption}, {style} style, percent")))
    return tables


def _groups(rows: list[dict[str, Any]]) -> dict[tuple[str, str], list[dict[str, Any]]]:
    groups: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for row in rows:
        groups.setdefault((str(row.get("model_name")), str(row.get("device"))), []).append(row)
    return dict(sorted(groups.items()))


def per_class_tables(rows: list[dict[str, Any]]) -> list[str]:
    anchors = [r for r in rows if r.get("scenario_name") == SCENARIO and r.get("coder_name") == ANCHOR]
    tables = []
    for (model, device), members in _groups(anchors).items():
        members.sort(key=_sequence)
        tables += _class_table(members, [("sequence", _sequence)], ("frames", _frame_count), model, device,
                                "AP per class")
    return tables


def _method(row: dict[str, Any]) -> str:
    if row.get("method") == "fp32":
        return "fp32 (original)"
    retrained = f" + {fmt(row.get('finetune'))} steps" if row.get("finetune") not in (None, "") else ""
    return f"{row.get('method')} {fmt(row.get('level'))}{retrained}"


def derived_per_class_tables(rows: list[dict[str, Any]]) -> list[str]:
    """Seed 001 §9.4's comparison: per sequence, the original (FP32) model's row and each derived model's (the
    ``derive`` scenario's whole-model cells on SFU-HW-Objects sequences), AP per class."""
    derived = [r for r in rows if r.get("scenario_name") == DERIVE and _sequence(r) != r.get("data_set_name")
               and r.get("split") in (None, "") and r.get("per_class_calc_map") is not None]
    tables = []
    for (model, device), members in _groups(derived).items():
        members.sort(key=lambda r: (_sequence(r), r.get("method") != "fp32", _method(r)))
        tables += _class_table(members, [("sequence", _sequence), ("model", _method)],
                                ("images", lambda row: row.get("images")), model, device,
                                "AP per class, original against derived")
    return tables


@SECTIONS.register("sfu_per_class")
def _sfu_page_section(page: Page) -> str:
    tables, derived = per_class_tables(page.rows), derived_per_class_tables(page.rows)
    if not tables and not derived:
        return ""
    html = '<h2 id="sfu-per-class">SFU-HW-Objects per sequence and class</h2>'
    if tables:
        html += note("The unsplit anchor's AP per sequence and object class (seed 001 §9.4's layout); every split "
                     "x coder row of the full table carries the same per_class_calc_map and per_class_coco_AP "
                     "columns.") + "".join(tables)
    if derived:
        html += note("The original (FP32) model against the models derived from it for the device (the derive "
                     "scenario: INT8 quantization, pruning), per sequence and class: seed 001 §9.4's table of "
                     "the original against the quantized model.") + "".join(derived)
    return html
