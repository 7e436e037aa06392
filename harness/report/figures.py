"""The report's registries: which plots a scenario's section shows, and which sections the page holds.

Both go through :class:`harness.registry.Registry` and the same plug-in import, so a new plot or a new
run-wide section is one module of ``harness/report/`` with one decorated function and no edit of the page
code (harness.report.html).

A figure provider is a function ``(scenario, rows) -> list[Figure]`` registered with
``@FIGURES.register("name")``; the report calls every provider for every scenario, in the order of their
names, and shows what they return. A provider returns ``[]`` for rows it does not draw (another scenario,
no data), so adding plots for a new scenario is one module in ``harness/report/`` with one decorated function
(e.g. ``sweep_plots.py`` for split-sweep latency plots) and no edit of the page code: :func:`figures_for`
imports every module of the package before it asks.

The providers here draw seed 000 Figs. 1-10 for rows with split points and seed 001 Fig. 10.1.9-1 for rows
without, one set per group (scenario / model / data set / device / metric).

A page section is a function ``(page) -> str`` (HTML; ``""`` when it has nothing to show) registered with
``@SECTIONS.register("name")``: the sections that span scenarios (BD-KBPI-mAP against the cloud-only anchor,
the executor's per-node throughput), placed after the scenario sections in the order of their names. A
section that draws figures of its own draws them only when ``page.figures`` is true.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from harness.registry import Registry, import_submodules
from harness.report import plots
from harness.report.curves import GROUP_COLUMNS, group_title
from harness.report.describe import is_coder_row
from harness.report.load import as_float


@dataclass(frozen=True)
class Figure:
    png: bytes
    caption: str


@dataclass(frozen=True)
class Page:
    """What a page section reads: the run's rows (in report order), where they came from, the page's options."""

    results_dir: Path
    rows: list[dict[str, Any]]
    cloud_anchor: str | None = None
    figures: bool = True
    environment: dict[str, Any] = field(default_factory=dict)  # what results.json recorded of the run


FigureProvider = Callable[[str, list[dict[str, Any]]], list[Figure]]
SectionProvider = Callable[[Page], str]
FIGURES: Registry[FigureProvider] = Registry("report figure")
SECTIONS: Registry[SectionProvider] = Registry("report section")
_IMPORTED = False


def _import_plugins() -> None:
    """Import every module of this package once: plug-ins (sweep_plots, bd_section, ...) register on import."""
    global _IMPORTED
    if not _IMPORTED:
        import_submodules("harness.report")
        _IMPORTED = True


def coder_groups(rows: list[dict[str, Any]]) -> list[tuple[tuple[str, ...], list[dict[str, Any]]]]:
    """Coder rows with a measured metric, by (scenario, model, data set, device, metric), sorted."""
    groups: dict[tuple[str, ...], list[dict[str, Any]]] = {}
    for row in rows:
        if is_coder_row(row) and as_float(row.get("rec_perf")) is not None:
            groups.setdefault(tuple(str(row.get(c, "")) for c in GROUP_COLUMNS), []).append(row)
    return sorted(groups.items())


def _has_splits(rows: list[dict[str, Any]]) -> bool:
    return any(str(r.get("split", "")) for r in rows)


def _provider(maker: Callable, caption: str, with_splits: bool) -> FigureProvider:
    def provide(scenario: str, rows: list[dict[str, Any]]) -> list[Figure]:
        out = []
        for group, members in coder_groups(rows):
            if _has_splits(members) != with_splits:
                continue
            title, metric = group_title(group), group[-1]
            image = maker(members, title, metric)
            if image is not None:
                out.append(Figure(image, f"{title}: {caption.format(metric=metric)}"))
        return out

    return provide


FIGURES.register("seed000_fig01_metric_by_split")(_provider(
    plots.metric_by_split, "{metric} per split point, one panel per coder family (seed 000 Figs. 1-2)", True))
FIGURES.register("seed000_fig03_rd_per_split")(_provider(
    plots.rd_per_split, "{metric} against compressed size at each split point, one line per coder family, "
    "rate points labelled (seed 000 Figs. 3-4)", True))
FIGURES.register("seed000_fig05_metric_vs_size")(_provider(
    plots.metric_vs_size, "{metric} against compressed size, one line per split point (seed 000 Figs. 5-8)", True))
FIGURES.register("seed000_fig09_metric_vs_ratio")(_provider(
    plots.metric_vs_ratio, "{metric} against compression ratio, per split point (seed 000 Figs. 9-10)", True))
FIGURES.register("seed001_fig10_1_9_1_csize")(_provider(
    plots.metric_vs_csize, "{metric} against cSize, one line per coder family (seed 001 Fig. 10.1.9-1)", False))


def figures_for(scenario: str, rows: list[dict[str, Any]]) -> list[Figure]:
    """Every registered provider's figures for one scenario's rows, providers in name order."""
    _import_plugins()
    out: list[Figure] = []
    for name in FIGURES.names():
        out += FIGURES.get(name)(scenario, rows)
    return out


def sections_for(page: Page) -> list[str]:
    """Every registered section of the page, in name order (those with nothing to show give ``""``)."""
    _import_plugins()
    return [SECTIONS.get(name)(page) for name in SECTIONS.names()]
