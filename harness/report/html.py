"""``report.html`` of a results folder, built from results.json/results.csv alone.

Self-contained: figures are embedded as base64 PNG. No timestamp is added, so the same results give the
same bytes (the environment block shows whatever the run recorded).
"""
from __future__ import annotations

import base64
import html
from collections import Counter
from pathlib import Path
from typing import Any, Callable

from harness.references import atomic_write_text, load_tolerances, tolerance_for
from harness.report import plots
from harness.report.curves import GROUP_COLUMNS, bd_tables, group_title
from harness.report.load import as_float, cell_key, cell_name, load_results

TIME_COLUMNS = ("enc_time", "dec_time", "rec_eval_time", "part1_time", "part2_time")
MATRIX_COLUMNS = [("model_name", "model"), ("data_set_name", "data set"), ("device", "device"),
                  ("split", "split"), ("coder_name", "coder"), ("metric_name", "metric"),
                  ("anc_perf", "anchor"), ("rec_perf", "measured"), ("ref_rec_perf", "reference"),
                  ("rec_size", "rec_size"), ("ref_rec_size", "ref rec_size"), ("compress_ratio", "ratio")]
STYLE = """body{font-family:sans-serif;margin:1.5em;color:#222}table{border-collapse:collapse;margin:.5em 0 1.5em}
td,th{border:1px solid #ccc;padding:2px 6px;font-size:13px;text-align:right}th{background:#eee}
td.t{text-align:left}tr.pass td.status{background:#d8f5d8}tr.fail td.status{background:#f8d0d0}
td.breach{background:#f8d0d0}figure{display:inline-block;margin:0 1em 1em 0}figcaption{font-size:12px}
.note{color:#555;font-size:13px;max-width:70em}"""


def _fmt(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.6g}"
    return str(value)


def _e(value: Any) -> str:
    return html.escape(_fmt(value))


def _flatten(node: Any, prefix: str = "") -> list[tuple[str, Any]]:
    if isinstance(node, dict):
        items: list[tuple[str, Any]] = []
        for key in sorted(node, key=str):
            items += _flatten(node[key], f"{prefix}.{key}" if prefix else str(key))
        return items
    if isinstance(node, list):
        return [(prefix, ", ".join(_fmt(v) for v in node))]
    return [(prefix, node)]


def total_time(row: dict[str, Any]) -> float | None:
    """enc + dec + reconstructed-model evaluation (part1 + part2 when no rec_eval_time was recorded)."""
    parts = [as_float(row.get(c)) for c in ("enc_time", "dec_time", "rec_eval_time")]
    if parts[2] is None:
        parts += [as_float(row.get("part1_time")), as_float(row.get("part2_time"))]
    known = [p for p in parts if p is not None]
    return sum(known) if known else None


def reference_verdict(row: dict[str, Any], tolerances: dict[str, Any]) -> bool | None:
    """Measured rec_perf within tolerance of ref_rec_perf (and rec_size of ref_rec_size); None: no reference."""
    verdicts = []
    for measured, reference, metric in (("rec_perf", "ref_rec_perf", str(row.get("metric_name", ""))),
                                        ("rec_size", "ref_rec_size", "rec_size")):
        got, want = as_float(row.get(measured)), as_float(row.get(reference))
        if got is not None and want is not None:
            verdicts.append(tolerance_for(metric, tolerances).accepts(got, want))
    return all(verdicts) if verdicts else None


def _table(headers: list[str], body: list[str], attrs: str = "") -> str:
    head = "".join(f"<th>{html.escape(h)}</th>" for h in headers)
    return f"<table{attrs}><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def _summary(rows: list[dict[str, Any]], tolerances: dict[str, Any]) -> str:
    body = []
    for scenario in sorted({r["scenario_name"] for r in rows}):
        mine = [r for r in rows if r["scenario_name"] == scenario]
        status = Counter(r.get("status", "") for r in mine)
        outside = sum(1 for r in mine if reference_verdict(r, tolerances) is False)
        other = len(mine) - status["pass"] - status["fail"]
        body.append(f'<tr data-scenario="{_e(scenario)}"><td class="t">{_e(scenario)}</td><td>{len(mine)}</td>'
                    f'<td class="npass">{status["pass"]}</td><td class="nfail">{status["fail"]}</td>'
                    f"<td>{other}</td><td>{outside}</td></tr>")
    return _table(["scenario", "cells", "pass", "fail", "other status", "outside tolerance of reference"],
                  body, ' id="summary"')


def _matrix(rows: list[dict[str, Any]], tolerances: dict[str, Any]) -> str:
    parts = []
    for scenario in sorted({r["scenario_name"] for r in rows}):
        body = []
        for row in (r for r in rows if r["scenario_name"] == scenario):
            verdict = reference_verdict(row, tolerances)
            status = str(row.get("status", ""))
            cells = "".join(
                f'<td class="{"t" if col in ("model_name", "data_set_name", "device", "coder_name", "metric_name") else ""}'
                f'{" breach" if verdict is False and col in ("rec_perf", "rec_size") else ""}">{_e(row.get(col))}</td>'
                for col, _ in MATRIX_COLUMNS)
            mark = {True: "within", False: "OUTSIDE", None: "no reference"}[verdict]
            body.append(f'<tr class="cell {html.escape(status)}" data-cell="{_e(cell_name(cell_key(row)))}">'
                        f"{cells}<td>{mark}</td><td class=\"status\">{_e(status)}</td></tr>")
        parts.append(f"<h3>{_e(scenario)}</h3>" + _table([h for _, h in MATRIX_COLUMNS] + ["tolerance", "status"],
                                                          body, f' class="matrix" data-scenario="{_e(scenario)}"'))
    return "".join(parts)


def _bd_section(rows: list[dict[str, Any]], anchor_family: str | None, anchor_split: str | None) -> str:
    entries = bd_tables(rows, anchor_family, anchor_split)
    if not entries:
        return '<p class="note">No codec family forms a curve of two or more rates: no Bjontegaard delta.</p>'
    body = []
    for e in entries:
        what = e["family"] if e["kind"] == "split" else f"split {e['split']}" if e["split"] else "-"
        body.append(f'<tr class="bd"><td class="t">{_e(group_title(e["group"]))}</td><td class="t">{_e(e["kind"])}</td>'
                    f'<td class="t">{_e(what)}</td><td class="t">{_e(e["anchor"])}</td><td class="t">{_e(e["test"])}</td>'
                    f'<td>{_e(e["points"])}</td><td>{_e(e["dropped"])}</td><td>{_e(e["bd_rate_percent"])}</td>'
                    f'<td>{_e(e["bd_metric"])}</td><td class="t">{_e(e["note"])}</td></tr>')
    return _table(["group", "compares", "at", "anchor", "test", "points (anchor / test)", "dominated points dropped",
                   "BD-rate %", "BD-metric", "note"], body, ' id="bd"')


def _figure(png: bytes, caption: str) -> str:
    data = base64.b64encode(png).decode("ascii")
    return (f'<figure><img alt="{_e(caption)}" src="data:image/png;base64,{data}">'
            f"<figcaption>{_e(caption)}</figcaption></figure>")


def _plots(rows: list[dict[str, Any]]) -> str:
    groups: dict[tuple[str, ...], list[dict[str, Any]]] = {}
    for row in rows:
        if as_float(row.get("rec_perf")) is not None:  # nothing to plot without a measured metric
            groups.setdefault(tuple(str(row.get(c, "")) for c in GROUP_COLUMNS), []).append(row)
    parts = []
    for group in sorted(groups):
        members, title, metric = groups[group], group_title(group), group[-1]
        if any(str(r.get("split", "")) for r in members):
            makers: list[tuple[Callable, str]] = [
                (plots.metric_by_split_and_coder, f"{metric} per split point and coder (seed 000 Figs. 1-2 style)"),
                (plots.metric_vs_size, f"{metric} against compressed intermediate size, per split (Figs. 3-8 style)"),
                (plots.metric_vs_ratio, f"{metric} against compression ratio, per split (Figs. 9-10 style)")]
        else:
            makers = [(plots.metric_vs_csize, f"{metric} against cSize (seed 001 Fig. 10.1.9-1 style)")]
        figures = "".join(_figure(make(members, title, metric), f"{title}: {caption}") for make, caption in makers)
        parts.append(f"<h3>{_e(title)}</h3>{figures}")
    return "".join(parts) or '<p class="note">No row has a measured metric (rec_perf): nothing to plot.</p>'



def _slowest(rows: list[dict[str, Any]], count: int) -> str:
    timed = [(total_time(r), r) for r in rows]
    timed = sorted(((t, r) for t, r in timed if t is not None), key=lambda tr: (-tr[0], cell_name(cell_key(tr[1]))))
    if not timed:
        return '<p class="note">No timing columns recorded.</p>'
    body = [f'<tr class="slow"><td class="t">{_e(cell_name(cell_key(r)))}</td><td>{_e(t)}</td>'
            + "".join(f"<td>{_e(as_float(r.get(c)))}</td>" for c in TIME_COLUMNS) + "</tr>"
            for t, r in timed[:count]]
    return _table(["combination", "total s"] + [f"{c} s" for c in TIME_COLUMNS], body, ' id="slowest"')


def build_report(results_dir: Path, anchor_family: str | None = None, anchor_split: str | None = None,
                 tolerances: dict[str, Any] | None = None, slowest: int = 10) -> str:
    tolerances = load_tolerances() if tolerances is None else tolerances
    environment, rows = load_results(results_dir)
    env_rows = [f'<tr><td class="t">{_e(k)}</td><td class="t">{_e(v)}</td></tr>' for k, v in _flatten(environment)]
    anchor_text = anchor_family or "nncodec (else the first family forming a curve)"
    sections = [
        f"<h1>FS_AI4Media cross-check report</h1><p>Results folder <code>{_e(Path(results_dir).name)}</code>: "
        f'<span id="nrows">{len(rows)}</span> cells.</p>',
        "<h2>Summary</h2>" + _summary(rows, tolerances),
        "<h2>Environment</h2>" + (_table(["key", "value"], env_rows, ' id="environment"') if env_rows
                                  else '<p class="note">results.json recorded no environment.</p>'),
        "<h2>Results matrix</h2><p class=\"note\">measured = rec_perf, reference = ref_rec_perf; tolerance from "
        "tolerances.yaml on rec_perf and rec_size.</p>" + _matrix(rows, tolerances),
        f"<h2>Bjontegaard deltas (BD-rate on rec_size, PCHIP)</h2><p class=\"note\">A curve is one codec family "
        f"(coder without its qp/bits) at one split, swept over qp/bits; rate = rec_size, so BD-rate equals seed 002's "
        f"BD-KBPI-mAP on the same images. 'codec' rows compare each family with the anchor family "
        f"{_e(anchor_text)} at the same split; 'split' rows compare each split with split "
        f"{_e(anchor_split or 'lowest')} for one family. Points beaten by a cheaper point are dropped first. "
        f"Negative BD-rate: the test needs less rate for the same metric.</p>" + _bd_section(rows, anchor_family, anchor_split),
        "<h2>Plots</h2>" + _plots(rows),
        f"<h2>Slowest combinations</h2><p class=\"note\">total = enc_time + dec_time + rec_eval_time "
        f"(part1_time + part2_time when rec_eval_time is absent); top {slowest}.</p>" + _slowest(rows, slowest),
    ]
    return (f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>FS_AI4Media cross-check report'
            f"</title><style>{STYLE}</style></head><body>{''.join(sections)}</body></html>\n")


def write_report(results_dir: Path, **options: Any) -> Path:
    path = Path(results_dir) / "report.html"
    atomic_write_text(path, build_report(results_dir, **options))
    return path
