"""The Bjontegaard tables of a scenario's section (numbers from harness.report.curves.bd_tables), and the page
section of BD-KBPI-mAP against the cloud-only anchor (numbers from harness.report.bd_kbpi), which spans the
ssd and ssd_cloud scenarios and so is a page section of the registry (harness.report.figures.SECTIONS)."""
from __future__ import annotations

from typing import Any

from harness.report.curves import bd_tables, group_title
from harness.report.describe import family_label, metric_view
from harness.report.figures import SECTIONS, Page
from harness.report.markup import esc, figure, fmt, note, table

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


# --- BD-KBPI-mAP against the cloud-only anchor (seed 002 Table 1; numbers from harness.report.bd_kbpi) ---------
KBPI_EXPLANATION = (
    "Seed 002 Table 1: each curve (mAP against kilobits per image; one coder family at one split point, swept over "
    "its rate parameter) against the cloud-only anchor {anchor} (ssd_cloud: the image coded, the whole detector in "
    "the cloud), one table per interpolation (pchip: JVET CTC; cubic: VCEG-M33, needs 4 points). Cell: BD-KBPI "
    "(bold; negative = fewer kilobits than the anchor at the same mAP) and BD-mAP (points). 'not monotonic': a "
    "curve was reduced to its Pareto front (points dropped as said); 'no overlap in mAP' / 'in KBPI': no BD-KBPI / "
    "no BD-mAP, the ranges are disjoint; 'too few points': fewer than the method needs; 'cubic fit not monotonic': "
    "the polynomial turns back inside the common mAP interval, so its BD-KBPI is an artefact (read pchip). The "
    "second table compares coder families at the same split point (test against anchor).")


def _signed(value: float, decimals: int) -> str:
    """``-23.4``; a cubic fit gone wild (1e+11 %) in 3 significant digits rather than 12 figures."""
    return f"{value:+.{decimals}f}" if abs(value) < 1e4 else f"{value:+.3g}"


def _kbpi_cell(cell: Any, attrs: str) -> str:
    if cell is None:
        return f'<td class="empty"{attrs}></td>'
    lines = []
    if cell.bd_kbpi is not None:
        lines.append(f'<span class="m">{_signed(cell.bd_kbpi, 1)} %</span>')
    if cell.bd_map is not None:
        lines.append(f'<span class="s">{_signed(cell.bd_map, 2)} pts</span>')
    for problem in cell.problems:
        text = f"{problem} ({cell.dropped} dropped)" if problem == "not monotonic" else problem
        lines.append(f'<span class="s flag">{esc(text)}</span>')
    title = f"points anchor / test {cell.points[0]} / {cell.points[1]}" + (f"; {cell.detail}" if cell.detail else "")
    state = "flag" if cell.problems else "ok"
    data = f' data-bd-kbpi="{esc(repr(cell.bd_kbpi))}" data-bd-map="{esc(repr(cell.bd_map))}"'
    return f'<td class="pv bdk {state}" title="{esc(title)}"{attrs}{data}>{"".join(lines)}</td>'


def _split_header(split: str) -> str:
    return "cloud only" if split == "cloud" else f"node {split}"


def _kbpi_tables(group: Any, method: str) -> str:
    from harness.report.markup import slug

    title, families = esc(group_title(group.key)), set(group.families)
    ident = slug("-".join(group.key))
    text = ""
    if group.anchor:
        body = []
        for family in group.families:
            cells = "".join('<td class="pv anchor">anchor</td>' if (s, family) == ("cloud", group.anchor) else
                            _kbpi_cell(group.against_anchor[method].get((family, s)),
                                       f' data-family="{esc(family)}" data-split="{esc(s)}"')
                            for s in group.splits)
            body.append(f'<tr><th class="t">{_family(family, families)}</th>{cells}</tr>')
        text += table(["coder family \\ split"] + [_split_header(s) for s in group.splits], body,
                      f' class="bd-kbpi" id="bd-kbpi-{ident}-{method}" data-method="{method}"',
                      caption=f"{title}: BD-KBPI % / BD-mAP against cloud-only {esc(group.anchor)} ({method})")
    pairs = sorted({(a, t) for a, t, _ in group.between[method]})
    feature_splits = [s for s in group.splits if s != "cloud"]
    if pairs:
        body = [f'<tr><th class="t">{_family(t, families)} against {_family(a, families)}</th>'
                + "".join(_kbpi_cell(group.between[method].get((a, t, s)),
                                     f' data-anchor="{esc(a)}" data-family="{esc(t)}" data-split="{esc(s)}"')
                          for s in feature_splits) + "</tr>" for a, t in pairs]
        text += table(["test against anchor \\ split"] + [_split_header(s) for s in feature_splits], body,
                      f' class="bd-kbpi-pairs" id="bd-pairs-{ident}-{method}" data-method="{method}"',
                      caption=f"{title}: BD-KBPI % / BD-mAP between coder families at each split point ({method})")
    return text


def _kbpi_figure(group: Any) -> str:
    from harness.report.plots import kbpi_per_split

    image = kbpi_per_split(group.curves, group_title(group.key), group.key[-1], group.anchor)
    caption = (f"{group_title(group.key)}: {group.key[-1]} against KBPI at each split point, one line per coder "
               f"family (dashed: a re-trained part 2), the cloud-only anchor {group.anchor or '(none)'} in green "
               "(seed 002 Fig. 5)")
    return figure(image, caption) if image is not None else ""


def bd_kbpi_section(rows: list[dict[str, Any]], cloud_anchor: str | None = None, figures: bool = True) -> str:
    """The page section of seed 002 Table 1 and Fig. 5 ("" when no run has split-inference curves with KBPI)."""
    from harness.report.bd_kbpi import DEFAULT_CLOUD_ANCHOR, METHODS, bd_kbpi_groups

    groups = bd_kbpi_groups(rows, cloud_anchor, METHODS)
    if not groups:
        return ""
    text = '<h2 id="bd-kbpi">BD-KBPI-mAP: split inference against the cloud-only anchor</h2>'
    text += note(esc(KBPI_EXPLANATION.format(anchor=cloud_anchor or f"{DEFAULT_CLOUD_ANCHOR} (default)")))
    for group in groups:
        if not group.anchor:
            text += note(f"{esc(group_title(group.key))}: no cloud-only curve "
                         + (f"of family {esc(cloud_anchor)} " if cloud_anchor else "")
                         + "(ssd_cloud rows with kbpi; run <code>pytest -m ssd_cloud</code>): families compared "
                         "with each other only.")
        text += "".join(_kbpi_tables(group, method) for method in METHODS)
        text += _kbpi_figure(group) if figures else ""
    return text


@SECTIONS.register("bd_kbpi")
def _bd_kbpi_page_section(page: Page) -> str:
    return bd_kbpi_section(page.rows, page.cloud_anchor, page.figures)
