"""Per-node throughput of a distributed run: ``<results-dir>/executor.json`` as a small table of the report; and
the run's efficiency as results.json records it (``environment.efficiency``: wall time, the cells' recorded work,
workers, wall / (work / workers), the costliest cells).

``--executor ray`` runs write that file (harness.executors.plugin: the executor's ``summary()``, with one entry
per Ray node under ``nodes``: host, shards, units, busy_s, units_per_s, cell_units_per_s). Local runs write
none, and the report then shows nothing. A file that is not that JSON is said in a note rather than failing
the whole report: the numbers are diagnostic, the results rows are the record.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from harness.report.figures import SECTIONS, Page
from harness.report.markup import esc, fmt, note, table

EXECUTOR_FILE = "executor.json"
NODE_COLUMNS = ("host", "shards", "units", "busy_s", "units_per_s", "cell_units_per_s")
TEXT = ' class="t"'
RUN_KEYS = ("executor", "address", "shard_size", "shards_total", "shards_computed", "shards_from_store",
            "shards_failed", "wall_s")


def read_executor(results_dir: Path) -> dict[str, Any] | None:
    """The executor summary of a results folder, None when there is none (local run, submission zip)."""
    path = Path(results_dir) / EXECUTOR_FILE
    if not Path(results_dir).is_dir() or not path.is_file():
        return None
    summary = json.loads(path.read_text(encoding="utf-8"))
    if not isinstance(summary, dict) or not isinstance(summary.get("nodes", {}), dict):
        raise TypeError(f"{path} is not an executor summary (no 'nodes' mapping)")
    return summary


def executor_section(results_dir: Path) -> str:
    """``<h2>`` and table of the nodes' throughput; "" without executor.json."""
    try:
        summary = read_executor(results_dir)
    except (ValueError, TypeError, OSError) as exc:
        return '<h2 id="executor">Executor</h2>' + note(f"{EXECUTOR_FILE} unreadable: {esc(str(exc))}")
    if summary is None:
        return ""
    run = "; ".join(f"{key} {esc(summary[key])}" for key in RUN_KEYS if key in summary)
    body = [f'<tr data-node="{esc(node)}"><td class="t" title="{esc(node)}">{esc(node[:12])}</td>'
            + "".join(f"<td{TEXT if column == 'host' else ''}>{esc(fmt(stats.get(column)))}</td>"
                      for column in NODE_COLUMNS) + "</tr>"
            for node, stats in sorted(summary.get("nodes", {}).items())]
    return ('<h2 id="executor">Executor</h2>'
            + note(f"{run}. Units are images (shards of --shard-size units); per second of busy time on the node.")
            + (table(["node", *NODE_COLUMNS], body, ' id="executor-nodes"', caption="Throughput per node")
               if body else note("No node finished a shard.")))


@SECTIONS.register("executor")
def _executor_page_section(page: Page) -> str:
    return executor_section(page.results_dir)


def efficiency_section(environment: dict[str, Any]) -> str:
    """``<h2>`` and one line of the run's efficiency with its costliest cells; "" when the run recorded none."""
    efficiency = environment.get("efficiency") if isinstance(environment, dict) else None
    if not isinstance(efficiency, dict) or efficiency.get("ratio") is None:
        return ""
    body = [f'<tr><td class="t">{esc(c.get("test_id", ""))}</td><td>{esc(fmt(c.get("seconds")))}</td></tr>'
            for c in efficiency.get("costliest", [])]
    return ('<h2 id="efficiency">Run efficiency</h2>'
            + note(f"wall {fmt(efficiency['wall_s'])} s for {fmt(efficiency['cell_work_s'])} s of cell work on "
                   f"{efficiency['workers']} worker(s): wall / (work / workers) = {fmt(efficiency['ratio'])} "
                   + (f"({fmt(efficiency['ratio_all_tests'])} over all {fmt(efficiency['test_work_s'])} s of test "
                      "work) " if efficiency.get("ratio_all_tests") is not None else "")
                   + "(1.0: every worker busy from start to end)")
            + table(["costliest cell", "seconds"], body, ' id="efficiency-cells"', caption="Costliest cells"))


@SECTIONS.register("efficiency")
def _efficiency_page_section(page: Page) -> str:
    return efficiency_section(page.environment)
