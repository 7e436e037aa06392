"""The report's tables built from rows alone: summary, full table, structure results, coders legend, slowest.

Generic over scenarios: the full table shows the identity columns that vary within a scenario (the constant
ones go to its heading), then the value columns the scenario's rows actually carry (seed 001's
anc_perf/rec_perf/sizes first, every other column after them by name), so a scenario with new columns
(``kbpi_std``, latencies) is shown without editing this module. Times go to the slowest-combinations table.

Rows are ordered by split point numerically and, within a coder family, by the coder's declared rate order
(``Coder.rate_sort_key``), never as text. Every row carries an ``id`` (:func:`markup.row_anchor` of its
cell name) that the pivot tables link to.
"""
from __future__ import annotations

from collections import Counter
from typing import Any

from harness.references import tolerance_for
from harness.report.curves import split_sort_key
from harness.report.describe import coder_view, is_coder_row
from harness.report.load import as_float, cell_key, cell_name
from harness.report.markup import esc, row_anchor, table
from harness.results import IDENTITY_COLUMNS

IDENTITY = ("model_name", "data_set_name", "device")
HIDDEN = {"test_id", "unique_tag", "status", *IDENTITY_COLUMNS, "metric_name"}
LEADING_VALUES = ("anc_perf", "rec_perf", "ref_rec_perf", "anc_size", "rec_size", "ref_rec_size",
                  "compress_ratio", "kbpi", "kbpi_std")
TIME_COLUMNS = ("enc_time", "dec_time", "rec_eval_time", "part1_time", "part2_time")


def split_key(split: Any) -> tuple:
    """Unsplit ("") first, then split points in numeric order."""
    text = str(split if split is not None else "")
    return (0,) if text == "" else (1, *split_sort_key(text))


def row_key(row: dict[str, Any]) -> tuple:
    return (str(row.get("scenario_name", "")), *(str(row.get(c, "")) for c in IDENTITY),
            str(row.get("metric_name", "")), split_key(row.get("split")), coder_view(str(row["coder_name"])).sort_key(),
            str(row.get("test_id", "")))


def ordered(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return sorted(rows, key=row_key)


def scenarios_of(rows: list[dict[str, Any]]) -> list[str]:
    return sorted({str(r["scenario_name"]) for r in rows})


def verdict(row: dict[str, Any]) -> str:
    """The cell's verdict class: pass, fail or other (skipped, error, not recorded)."""
    status = str(row.get("status", ""))
    return status if status in ("pass", "fail") else "other"


def reference_verdict(row: dict[str, Any], tolerances: dict[str, Any]) -> bool | None:
    """Measured rec_perf within tolerance of ref_rec_perf (and rec_size of ref_rec_size), for rows that carry
    their reference; None when they do not."""
    verdicts = []
    for measured, reference, metric in (("rec_perf", "ref_rec_perf", str(row.get("metric_name", ""))),
                                        ("rec_size", "ref_rec_size", "rec_size")):
        got, want = as_float(row.get(measured)), as_float(row.get(reference))
        if got is not None and want is not None:
            verdicts.append(tolerance_for(metric, tolerances).accepts(got, want))
    return all(verdicts) if verdicts else None


def value_columns(rows: list[dict[str, Any]], exclude_times: bool = True) -> list[str]:
    present = {k for r in rows for k, v in r.items() if v not in (None, "") and k not in HIDDEN}
    if exclude_times:
        present = {c for c in present if not c.endswith("_time")}
    return [c for c in LEADING_VALUES if c in present] + sorted(present - set(LEADING_VALUES))


def varying_identity(rows: list[dict[str, Any]]) -> tuple[list[str], dict[str, str]]:
    """(identity columns that vary, constant ones with their value)."""
    varying, constant = [], {}
    for column in IDENTITY:
        values = {str(r.get(column, "")) for r in rows}
        if len(values) > 1:
            varying.append(column)
        elif values != {""}:
            constant[column] = values.pop()
    return varying, constant


def coder_cell(spec: str) -> str:
    view = coder_view(spec)
    return f'<td class="t coder" title="{esc(spec)}">{esc(view.label)}</td>'


def summary(rows: list[dict[str, Any]], tolerances: dict[str, Any]) -> str:
    body = []
    for scenario in scenarios_of(rows):
        mine = [r for r in rows if r["scenario_name"] == scenario]
        counts = Counter(verdict(r) for r in mine)
        outside = sum(1 for r in mine if reference_verdict(r, tolerances) is False)
        structure = sum(1 for r in mine if not is_coder_row(r))
        body.append(f'<tr data-scenario="{esc(scenario)}"><td class="t"><a href="#scenario-{esc(scenario)}">'
                    f'{esc(scenario)}</a></td><td>{len(mine)}</td><td class="npass">{counts["pass"]}</td>'
                    f'<td class="nfail{" bad" if counts["fail"] else ""}">{counts["fail"]}</td>'
                    f"<td>{counts['other']}</td><td>{structure}</td><td>{outside}</td></tr>")
    return table(["scenario", "rows", "pass", "fail", "other status", "of which structure rows",
                  "outside tolerance of recorded reference"], body, ' id="summary"')


def _row_html(row: dict[str, Any], identity: list[str], values: list[str], tolerances: dict[str, Any],
              with_reference: bool, with_coder: bool) -> str:
    name = cell_name(cell_key(row))
    ref = reference_verdict(row, tolerances)
    cells = "".join(f'<td class="t">{esc(row.get(c))}</td>' for c in identity)
    cells += f'<td>{esc(row.get("split"))}</td>' + (coder_cell(str(row["coder_name"])) if with_coder else "")
    cells += f'<td class="t">{esc(row.get("metric_name"))}</td>'
    cells += "".join(f'<td class="{"breach" if ref is False and c in ("rec_perf", "rec_size") else ""}">'
                     f"{esc(row.get(c))}</td>" for c in values)
    if with_reference:
        cells += f'<td>{ {True: "within", False: "OUTSIDE", None: "no reference"}[ref]}</td>'
    status = str(row.get("status", ""))
    return (f'<tr id="{row_anchor(name)}" class="cell {verdict(row)}" data-cell="{esc(name)}" '
            f'data-status="{esc(status)}">{cells}<td class="status">{esc(status)}</td></tr>')


def full_table(scenario: str, rows: list[dict[str, Any]], tolerances: dict[str, Any], kind: str = "matrix",
               title: str = "") -> str:
    """Every row of a scenario (one ``kind``: coder rows ``matrix``, structure rows ``structure``)."""
    if not rows:
        return ""
    identity, constant = varying_identity(rows)
    values = value_columns(rows)
    with_reference = any(reference_verdict(r, tolerances) is not None for r in rows)
    with_coder = kind != "structure"  # structure rows all name coder "none"
    headers = (identity + ["split"] + (["coder"] if with_coder else []) + ["metric"] + values
               + (["tolerance"] if with_reference else []) + ["status"])
    fixed = ", ".join(f"{k.replace('_name', '').replace('_', ' ')} {v}" for k, v in constant.items())
    body = [_row_html(r, identity, values, tolerances, with_reference, with_coder) for r in ordered(rows)]
    return table(headers, body, f' class="{kind}" data-scenario="{esc(scenario)}"',
                 caption=esc(f"{scenario}{f' {title}' if title else ''}" + (f" ({fixed})" if fixed else "")))


def coders_legend(rows: list[dict[str, Any]]) -> str:
    specs = sorted({str(r["coder_name"]) for r in rows if is_coder_row(r)}, key=lambda s: coder_view(s).sort_key())
    body = []
    for spec in specs:
        view = coder_view(spec)
        known = "" if view.known else "not a coder of this build (an anchor, or another build's coder)"
        lossless = "" if view.lossless is None else ("lossless" if view.lossless else "lossy")
        body.append(f'<tr class="coder-legend"><td class="t">{esc(view.label)}</td><td class="t">{esc(view.family)}'
                    f'</td><td class="t"><code>{esc(spec)}</code></td><td class="t">{esc(view.rate_param or "-")}'
                    f'</td><td class="t">{lossless or known}</td></tr>')
    return table(["label", "family", "full spec (results coder_name)", "rate parameter", ""], body,
                 ' id="coders"')


def total_time(row: dict[str, Any]) -> float | None:
    """enc + dec + reconstructed-model evaluation (part1 + part2 when no rec_eval_time was recorded)."""
    parts = [as_float(row.get(c)) for c in ("enc_time", "dec_time", "rec_eval_time")]
    if parts[2] is None:
        parts += [as_float(row.get("part1_time")), as_float(row.get("part2_time"))]
    known = [p for p in parts if p is not None]
    return sum(known) if known else None


def slowest(rows: list[dict[str, Any]], count: int) -> str:
    timed = sorted(((t, r) for t, r in ((total_time(r), r) for r in rows) if t is not None),
                   key=lambda tr: (-tr[0], cell_name(cell_key(tr[1]))))
    if not timed:
        return '<p class="note">No timing columns recorded.</p>'
    body = [f'<tr class="slow"><td class="t"><a href="#{row_anchor(cell_name(cell_key(r)))}">'
            f"{esc(cell_name(cell_key(r)))}</a></td><td>{esc(t)}</td>"
            + "".join(f"<td>{esc(as_float(r.get(c)))}</td>" for c in TIME_COLUMNS) + "</tr>"
            for t, r in timed[:count]]
    return table(["combination", "total s"] + [f"{c} s" for c in TIME_COLUMNS], body, ' id="slowest"')
