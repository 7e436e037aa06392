"""The Bjontegaard tables of a scenario's section (numbers from harness.report.curves.bd_tables)."""
from __future__ import annotations

from typing import Any

from harness.report.curves import bd_tables, group_title
from harness.report.describe import family_label, metric_view
from harness.report.markup import esc, fmt, note, table

EXPLANATION = ("A curve is one coder family (the coder's declared family: spec without its rate parameter) at one "
               "split, swept over its rate parameter; rate = rec_size, so BD-rate equals seed 002's BD-KBPI-mAP on "
               "the same images (PCHIP). 'codec' rows compare each family with the anchor family {anchor} at the "
               "same split; 'split' rows compare each split with split {split} for one family. Points beaten by a "
               "cheaper point are dropped first (direction: the scenario's declared metric). Negative BD-rate: the "
               "test needs less rate for the same metric.")


def _family(name: str, families: set[str]) -> str:
    """Short family label (``nncodec``) with the full family on hover; full when two families share a coder."""
    short = family_label(name)
    shared = sum(1 for f in families if family_label(f) == short) > 1
    return f'<span title="{esc(name)}">{esc(name if shared else short)}</span>'


def _entry_row(e: dict[str, Any], families: set[str]) -> str:
    fam = (lambda n: _family(n, families) if n in families else esc(n))
    what = fam(e["family"]) if e["kind"] == "split" else esc(f"split {e['split']}" if e["split"] else "-")
    return (f'<tr class="bd"><td class="t">{esc(e["kind"])}</td><td class="t">{what}</td>'
            f'<td class="t">{fam(e["anchor"])}</td><td class="t">{fam(e["test"])}</td><td>{esc(e["points"])}</td>'
            f'<td>{esc(e["dropped"])}</td><td>{esc(fmt(e["bd_rate_percent"], 4))}</td>'
            f'<td>{esc(fmt(e["bd_metric"], 4))}</td><td class="t">{esc(e["note"])}</td></tr>')


def bd_section(rows: list[dict[str, Any]], anchor_family: str | None, anchor_split: str | None) -> str:
    """One table per group (model / data set / device / metric): codec rows, then split rows."""
    entries = bd_tables(rows, anchor_family, anchor_split)
    if not entries:
        return note("Fewer than two curves to compare (a curve: one coder family with two or more rate points at "
                    "one split): no Bjontegaard delta.")
    text = note(esc(EXPLANATION.format(anchor=anchor_family or "nncodec (else the first family forming a curve)",
                                       split=anchor_split or "lowest")))
    groups: dict[tuple[str, ...], list[dict[str, Any]]] = {}
    for e in entries:
        groups.setdefault(e["group"], []).append(e)
    undeclared = sorted({g[-1] for g in groups if metric_view(g[0], g[-1]).higher_is_better is None})
    if undeclared:
        text += note(f"Metric(s) {esc(', '.join(undeclared))} declare no direction: taken as higher-is-better.")
    for group, members in groups.items():
        families = {e["family"] for e in members if e["kind"] == "split"} | \
                   {n for e in members if e["kind"] == "codec" for n in (e["anchor"], e["test"])}
        text += table(["compares", "at", "anchor", "test", "points (anchor / test)", "dominated points dropped",
                       "BD-rate %", "BD-metric", "note"], [_entry_row(e, families) for e in members],
                      f' class="bd" data-group="{esc("/".join(group))}"', caption=esc(group_title(group)))
    return text
