"""Read a report.html back and say where it disagrees with results rows (``check-submission`` uses it).

The full and structure tables carry one ``<tr data-cell=... data-status=...>`` per results row with the
columns named in their header; every header that is a results column is compared as text with the value the
report prints for that row (harness.report.markup.fmt), so a report edited after the fact, or built from
other results, is caught without rebuilding figures (whose bytes depend on the matplotlib version).
"""
from __future__ import annotations

from collections import Counter
from html.parser import HTMLParser
from typing import Any

from harness.report.load import cell_key, cell_name
from harness.report.markup import fmt


class _Reader(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.rows: list[dict[str, Any]] = []
        self.nrows: str | None = None
        self._headers: list[str] = []
        self._in_head = False
        self._row: dict[str, Any] | None = None
        self._cell: list[str] | None = None
        self._span: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "table":
            self._headers = []
        elif tag == "thead":
            self._in_head = True
        elif tag == "th" and self._in_head:
            self._cell = []
        elif tag == "tr" and "data-cell" in a and "cell" in (a.get("class") or "").split():
            self._row = {"cell": a["data-cell"], "status": a.get("data-status", ""), "texts": [],
                         "headers": list(self._headers)}
        elif tag == "td" and self._row is not None:
            self._cell = []
        elif tag == "span" and a.get("id") == "nrows":
            self._span = ""

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data)
        if self._span is not None:
            self._span += data

    def handle_endtag(self, tag: str) -> None:
        if tag == "th" and self._in_head and self._cell is not None:
            self._headers.append("".join(self._cell))
            self._cell = None
        elif tag == "thead":
            self._in_head = False
        elif tag == "td" and self._row is not None and self._cell is not None:
            self._row["texts"].append("".join(self._cell))
            self._cell = None
        elif tag == "tr" and self._row is not None:
            self.rows.append(self._row)
            self._row = None
        elif tag == "span" and self._span is not None:
            self.nrows, self._span = self._span, None


def read_report(text: str) -> tuple[str | None, list[dict[str, Any]]]:
    """(the row count the page states, its cell rows: cell, status, {header: text})."""
    reader = _Reader()
    reader.feed(text)
    out = []
    for row in reader.rows:
        out.append({"cell": row["cell"], "status": row["status"], "values": dict(zip(row["headers"], row["texts"]))})
    return reader.nrows, out


def disagreements(text: str, rows: list[dict[str, Any]], limit: int = 5) -> list[str]:
    """Where the report does not show ``rows`` (empty: it agrees)."""
    nrows, shown = read_report(text)
    problems = []
    if nrows != str(len(rows)):
        problems.append(f"report states {nrows} rows, results hold {len(rows)}")
    want = Counter(cell_name(cell_key(r)) for r in rows)
    got = Counter(r["cell"] for r in shown)
    for name in sorted((want - got).keys())[:limit]:
        problems.append(f"report lacks the row of {name}")
    for name in sorted((got - want).keys())[:limit]:
        problems.append(f"report shows {name}, which the results do not hold")
    by_name = {cell_name(cell_key(r)): r for r in rows if want[cell_name(cell_key(r))] == 1}
    bad = []
    for entry in shown:
        row = by_name.get(entry["cell"])
        if row is None:
            continue
        if entry["status"] != str(row.get("status", "")):
            bad.append(f"{entry['cell']}: status {entry['status']!r} in the report, {row.get('status')!r} in results")
        for header, value in entry["values"].items():
            if header in row and header != "coder_name" and value != fmt(row[header]):
                bad.append(f"{entry['cell']}: {header} {value!r} in the report, {fmt(row[header])!r} in results")
    return problems + bad[:limit] + ([f"... and {len(bad) - limit} more"] if len(bad) > limit else [])
