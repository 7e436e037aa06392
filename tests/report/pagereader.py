"""A small independent reader of report.html for the tests (the suite's own readback is under test too)."""
from __future__ import annotations

from dataclasses import dataclass, field
from html.parser import HTMLParser


@dataclass
class Table:
    attrs: dict
    caption: str = ""
    headers: list[str] = field(default_factory=list)
    rows: list[dict] = field(default_factory=list)


class Page(HTMLParser):
    """Tables (attributes, caption, headers, rows of cells with their attributes, text and link), images, ids."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tables: list[Table] = []
        self.images: list[str] = []
        self.ids: set[str] = set()
        self.links: list[str] = []
        self._stack: list[Table] = []
        self._row: dict | None = None
        self._cell: dict | None = None
        self._caption: list[str] | None = None
        self._head = False

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if "id" in attrs:
            self.ids.add(attrs["id"])
        if tag == "table":
            self._stack.append(Table(attrs))
        elif tag == "caption":
            self._caption = []
        elif tag == "thead":
            self._head = True
        elif tag == "tr":
            self._row = {"attrs": attrs, "cells": []}
        elif tag in ("td", "th") and self._row is not None:
            self._cell = {"tag": tag, "attrs": attrs, "text": "", "href": None}
            self._row["cells"].append(self._cell)
        elif tag == "a":
            self.links.append(attrs.get("href", ""))
            if self._cell is not None:
                self._cell["href"] = attrs.get("href")
        elif tag == "img":
            self.images.append(attrs["src"])

    def handle_data(self, data):
        if self._caption is not None:
            self._caption.append(data)
        if self._cell is not None:
            self._cell["text"] += data

    def handle_endtag(self, tag):
        if tag == "caption" and self._stack:
            self._stack[-1].caption = "".join(self._caption or [])
            self._caption = None
        elif tag in ("td", "th"):
            self._cell = None
        elif tag == "thead":
            self._head = False
        elif tag == "tr" and self._row is not None and self._stack:
            if self._head:
                self._stack[-1].headers = [c["text"] for c in self._row["cells"]]
            else:
                self._stack[-1].rows.append(self._row)
            self._row = None
        elif tag == "table" and self._stack:
            self.tables.append(self._stack.pop())

    def by_class(self, name: str) -> list[Table]:
        return [t for t in self.tables if name in t.attrs.get("class", "").split()]

    def by_id(self, name: str) -> Table:
        return next(t for t in self.tables if t.attrs.get("id") == name)

    def cell_rows(self) -> list[dict]:
        """Rows of the full and structure tables (one per results row)."""
        return [r for t in self.tables for r in t.rows if "cell" in r["attrs"].get("class", "").split()]


def parse(text: str) -> Page:
    page = Page()
    page.feed(text)
    return page
