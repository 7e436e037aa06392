"""``report.html`` of a results folder (or a submission), built from results.json/results.csv alone.

Read top to bottom as a member would: the environment and asset md5s the run recorded; one summary line per
scenario; per scenario its pivot tables (seed 000's shape, cells coloured by verdict and linked to their rows),
its structure results, its Bjontegaard tables and its figures; the sections that span scenarios (BD-KBPI-mAP
against the cloud-only anchor, executor throughput); then the coders legend (short label -> full spec), the full
tables and the slowest combinations. Figures and run-wide sections come from the registries of
harness.report.figures, so new ones plug in without editing this module.

Self-contained (figures embedded as base64 PNG) and without timestamp: the same results give the same bytes.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

from harness.files import atomic_write_text
from harness.references import load_tolerances
from harness.report import tables
from harness.report.bd_section import bd_section
from harness.report.describe import is_coder_row
from harness.report.figures import Page, figures_for, sections_for
from harness.report.header import environment_section
from harness.report.load import load_results
from harness.report.markup import esc, figure, note
from harness.report.pivot import pivot_tables

STYLE = """body{font-family:sans-serif;margin:1.5em;color:#222;max-width:110em}
table{border-collapse:collapse;margin:.4em 0 1.4em}caption{text-align:left;font-weight:bold;padding:.3em 0;white-space:nowrap}
td,th{border:1px solid #ccc;padding:2px 6px;font-size:13px;text-align:right}th{background:#eee}
td.t,th.t{text-align:left}tr.pass td.status,td.pv.pass{background:#d8f5d8}tr.fail td.status,td.pv.fail{background:#f8c8c8}
tr.other td.status,td.pv.other{background:#eee}td.breach{background:#f8d0d0}td.bad{background:#f8c8c8;font-weight:bold}
table.pivot td.pv{padding:1px 5px;line-height:1.15}table.pivot td.pv a{color:#222;text-decoration:none;display:block}
td.pv span.m{display:block;font-weight:bold}td.pv span.s{display:block;font-size:11px;color:#555}
td.pv.fail a{color:#900}tr.fam-start th,tr.fam-start td{border-top:2px solid #777}
p.unsplit a.fail{color:#900;font-weight:bold}p.unsplit a{color:#222}
figure{display:inline-block;margin:0 1em 1em 0;vertical-align:top}figcaption{font-size:12px;max-width:60em}
figure img{max-width:100%}.note{color:#555;font-size:13px;max-width:80em}h2{border-bottom:1px solid #aaa}
tr:target td,tr:target th{outline:2px solid #06c}#environment td{max-width:60em}
td.bdk span.flag{color:#a50}"""


def scenario_section(scenario: str, rows: list[dict[str, Any]], tolerances: dict[str, Any],
                     anchor_family: str | None, anchor_split: str | None, with_figures: bool = True) -> str:
    coder_rows = [r for r in rows if is_coder_row(r)]
    structure = [r for r in rows if not is_coder_row(r)]
    parts = [f'<h2 id="scenario-{esc(scenario)}">Scenario {esc(scenario)}</h2>']
    if coder_rows:
        parts.append(note("Cell: metric (bold) and compressed size per image; green pass, red fail, grey other; "
                          "hover for the full coder spec, click for the row in the full table.")
                     + pivot_tables(scenario, coder_rows))
    if structure:
        by_metric = {m: [r for r in structure if r.get("metric_name", "") == m]
                     for m in sorted({str(r.get("metric_name", "")) for r in structure})}
        parts.append(f"<h3>Structure results of {esc(scenario)}</h3>"
                     + note("Rows that involve no coder (sizes of cut tensors, parameter counts, split checks), one "
                            "table per metric with the columns it records.")
                     + "".join(tables.full_table(scenario, members, tolerances, kind="structure", title=metric)
                               for metric, members in by_metric.items()))
    if coder_rows:
        parts.append(f"<h3>Bjontegaard deltas of {esc(scenario)}</h3>"
                     + bd_section(coder_rows, anchor_family, anchor_split))
    figures = figures_for(scenario, rows) if with_figures else []
    if figures:
        parts.append(f"<h3>Figures of {esc(scenario)}</h3>" + "".join(figure(f.png, f.caption) for f in figures))
    return "".join(parts)


def build_report(results_dir: Path, anchor_family: str | None = None, anchor_split: str | None = None,
                 tolerances: dict[str, Any] | None = None, slowest: int = 10,
                 assets: list[dict[str, Any]] | None = None, figures: bool = True,
                 cloud_anchor: str | None = None) -> str:
    """The page; ``assets`` (``assets verify`` states) replaces the asset md5s the run recorded, if given;
    ``figures=False`` leaves the figures out (they take most of the time); ``cloud_anchor``: the ssd_cloud
    family of the BD-KBPI-mAP tables (harness.report.bd_kbpi)."""
    tolerances = load_tolerances() if tolerances is None else tolerances
    environment, rows = load_results(results_dir)
    rows = tables.ordered(rows)
    failing = sum(1 for r in rows if tables.verdict(r) == "fail")
    sections = [
        f"<h1>FS_AI4Media cross-check report</h1><p>Results <code>{esc(Path(results_dir).name)}</code>: "
        f'<span id="nrows">{len(rows)}</span> rows, <span id="nfail">{failing}</span> failing.</p>',
        environment_section(environment, assets),
        "<h2>Summary</h2>" + tables.summary(rows, tolerances),
    ]
    sections += [scenario_section(s, [r for r in rows if r["scenario_name"] == s], tolerances, anchor_family,
                                  anchor_split, figures) for s in tables.scenarios_of(rows)]
    sections += sections_for(Page(results_dir, rows, cloud_anchor, figures, environment))
    sections += [
        "<h2>Coders</h2>" + note("Short labels used in tables and figures, with the full spec recorded in results "
                                 "(coder_name); family and rate parameter as the coder class declares them.")
        + tables.coders_legend(rows),
        "<h2>Full tables</h2>" + note("Every coder row; measured = rec_perf. Constant model / data set / device "
                                      "are in each caption.")
        + "".join(tables.full_table(s, [r for r in rows if r["scenario_name"] == s and is_coder_row(r)], tolerances)
                  for s in tables.scenarios_of(rows)),
        "<h2>Slowest combinations</h2>" + note(f"total = enc_time + dec_time + rec_eval_time (part1_time + "
                                                f"part2_time when rec_eval_time is absent); top {slowest}.")
        + tables.slowest(rows, slowest),
    ]
    return (f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>FS_AI4Media cross-check report'
            f"</title><style>{STYLE}</style></head><body>{''.join(sections)}</body></html>\n")


def write_report(results_dir: Path, **options: Any) -> Path:
    path = Path(results_dir) / "report.html"
    atomic_write_text(path, build_report(results_dir, **options))
    return path
