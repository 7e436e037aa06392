"""Per-scenario pivot tables in the shape of seed 000 Figs. 1-2: what a member reads first.

One table per (model, data set, device, metric) of a scenario's coder rows. Rows: coder families (single-point
coders first) and, within a family, its rate points in the coder's declared numeric order; columns: split
points in numeric order (one "no split" column for scenarios without split points). A cell shows the metric
and the compressed size per image (KBPI, kbit per image, when the rows carry ``kbpi``; otherwise rec_size in
kB; ``±kbpi_std`` when recorded), is coloured by the cell's verdict (pass / fail / other) and links to its row in the full table; its
title (hover) holds the full coder spec and the numbers. Rows with no split point in a group that has split
points (the unsplit anchor) are listed above the table.
"""
from __future__ import annotations

from collections import defaultdict
from typing import Any

from harness.report.curves import GROUP_COLUMNS, group_title
from harness.report.describe import coder_view, family_label, is_coder_row, metric_view
from harness.report.load import as_float, cell_key, cell_name
from harness.report.markup import esc, fmt, row_anchor, size_text, slug, table
from harness.report.tables import split_key, verdict


def _size(row: dict[str, Any], scenario: str) -> tuple[float | None, str]:
    """(value, unit) of the size line of a pivot cell."""
    kbpi = as_float(row.get("kbpi"))
    if kbpi is not None:
        return kbpi, metric_view(scenario, "kbpi").unit or "kbit/image"
    size = as_float(row.get("rec_size"))
    return (None if size is None else size / 1000.0), "kB"  # rec_size is bytes (seed 001 Table 2.1.2.3-1)


def _labels(specs: list[str]) -> dict[str, str]:
    """Short label per spec; two families of one coder (``nncodec`` dq=0 and dq=1) keep their family visible."""
    families_by_name: dict[str, set[str]] = defaultdict(set)
    for spec in specs:
        view = coder_view(spec)
        families_by_name[family_label(view.family)].add(view.family)
    labels = {}
    for spec in specs:
        view = coder_view(spec)
        shared = view.known and len(families_by_name[family_label(view.family)]) > 1  # unknown: label is the spec
        labels[spec] = f"{view.label} [{view.family}]" if shared else view.label
    return labels


def _cell(row: dict[str, Any] | None, scenario: str, duplicates: int) -> str:
    if row is None:
        return '<td class="empty"></td>'
    name = cell_name(cell_key(row))
    metric, (size, unit) = as_float(row.get("rec_perf")), _size(row, scenario)
    title = (f"{row['coder_name']} | split {row.get('split') or '-'} | {row.get('metric_name')} {fmt(metric)} | "
             f"{fmt(size)} {unit} | status {row.get('status', '')}")
    if duplicates > 1:
        title += f" | recorded {duplicates} times, first shown"
    spread = as_float(row.get("kbpi_std")) if unit != "kB" else None
    size_html = (f'<span class="s">{esc(size_text(size))}{f" ±{esc(size_text(spread))}" if spread is not None else ""}'
                 "</span>" if size is not None else "")
    return (f'<td class="pv {verdict(row)}" title="{esc(title)}" data-cell="{esc(name)}"><a href="#{row_anchor(name)}">'
            f'<span class="m">{esc(fmt(metric, 4))}</span>{size_html}</a></td>')


def _unsplit_line(rows: list[dict[str, Any]], scenario: str) -> str:
    parts = []
    for row in rows:
        name = cell_name(cell_key(row))
        value = fmt(as_float(row.get("rec_perf")), 4)
        parts.append(f'<a class="{verdict(row)}" href="#{row_anchor(name)}" title="{esc(row["coder_name"])}">'
                     f"{esc(coder_view(str(row['coder_name'])).label)} (unsplit): {row.get('metric_name')} "
                     f"{esc(value)}</a>")
    return f'<p class="unsplit">{"; ".join(parts)}</p>' if parts else ""


def pivot_group(scenario: str, group: tuple[str, ...], rows: list[dict[str, Any]]) -> str:
    has_splits = any(str(r.get("split", "")) for r in rows)
    unsplit = [r for r in rows if has_splits and not str(r.get("split", ""))]
    body_rows = [r for r in rows if r not in unsplit]
    splits = sorted({str(r.get("split", "")) for r in body_rows}, key=split_key)
    specs = sorted({str(r["coder_name"]) for r in body_rows}, key=lambda s: coder_view(s).sort_key())
    by_cell: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
    for row in body_rows:
        by_cell[(str(row["coder_name"]), str(row.get("split", "")))].append(row)
    labels, body, previous = _labels(specs), [], None
    for spec in specs:
        family = coder_view(spec).family
        start = " fam-start" if previous is not None and family != previous else ""
        previous = family
        cells = "".join(_cell((by_cell.get((spec, s)) or [None])[0], scenario, len(by_cell.get((spec, s), [])))
                        for s in splits)
        body.append(f'<tr class="pivot-row{start}" data-coder="{esc(spec)}"><th class="t" title="{esc(spec)}">'
                    f"{esc(labels[spec])}</th>{cells}</tr>")
    size_unit = _size(body_rows[0], scenario)[1] if body_rows else ""
    metric = group[-1]
    unit = metric_view(scenario, metric).unit
    caption = (f"{esc(group_title(group))}: {esc(metric)}{f' ({esc(unit)})' if unit else ''} and size "
               f"({esc(size_unit)}) per coder and split point")
    headers = ["coder \\ split"] + [f"node {s}" if s else "no split" for s in splits]
    return (_unsplit_line(unsplit, scenario)
            + table(headers, body, f' class="pivot" id="pivot-{slug("-".join(group))}" data-group="{esc("/".join(group))}"',
                    caption=caption))


def pivot_tables(scenario: str, rows: list[dict[str, Any]]) -> str:
    """One pivot per group that has something to show (a metric or a size); other rows are in the full table."""
    groups: dict[tuple[str, ...], list[dict[str, Any]]] = defaultdict(list)
    for row in rows:
        if is_coder_row(row):
            groups[tuple(str(row.get(c, "")) for c in GROUP_COLUMNS)].append(row)
    shown = {g: m for g, m in groups.items()
             if any(as_float(r.get("rec_perf")) is not None or _size(r, scenario)[0] is not None for r in m)}
    return "".join(pivot_group(scenario, group, members) for group, members in sorted(shown.items()))
