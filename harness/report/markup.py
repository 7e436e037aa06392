"""Small HTML helpers shared by the report's sections: escaping, number formatting, tables and anchors.

Numbers are printed with 6 significant digits (``fmt``): the report is read by people; ``compare`` and
``check-submission`` read results.json, not the page. Anchors (``row_anchor``) are derived from the cell
name only, so a link from a pivot cell to its row in the full table never depends on the row order.
"""
from __future__ import annotations

import base64
import hashlib
import html
import re
from typing import Any, Iterable


def fmt(value: Any, digits: int = 6) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, float):
        return f"{value:.{digits}g}"
    return str(value)


def size_text(value: float | None) -> str:
    """A size for people: whole numbers from 100 up (1890, not 1.89e+03), 3 significant digits below."""
    if value is None:
        return ""
    return f"{value:.0f}" if abs(value) >= 100 else f"{value:.3g}"


def esc(value: Any) -> str:
    return html.escape(fmt(value))


def table(headers: Iterable[str], body: Iterable[str], attrs: str = "", caption: str = "") -> str:
    head = "".join(f"<th>{html.escape(h)}</th>" for h in headers)
    cap = f"<caption>{caption}</caption>" if caption else ""
    return f"<table{attrs}>{cap}<thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def row_anchor(cell_name: str) -> str:
    """A valid, unique HTML id for a cell: readable slug plus 8 hex of its sha1 (slugs may collide)."""
    slug = re.sub(r"[^A-Za-z0-9_.-]+", "_", cell_name)[:80]
    return f"row-{slug}-{hashlib.sha1(cell_name.encode('utf-8')).hexdigest()[:8]}"


def slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", text) or "_"


def flatten(node: Any, prefix: str = "") -> list[tuple[str, Any]]:
    """Nested dicts as (dotted key, value) pairs; lists joined by commas."""
    if isinstance(node, dict):
        items: list[tuple[str, Any]] = []
        for key in sorted(node, key=str):
            items += flatten(node[key], f"{prefix}.{key}" if prefix else str(key))
        return items
    if isinstance(node, list):
        return [(prefix, ", ".join(fmt(v) for v in node))]
    return [(prefix, node)]


def note(text: str) -> str:
    return f'<p class="note">{text}</p>'


def figure(png: bytes, caption: str) -> str:
    """A PNG inlined as a data URI with its caption (the report is one self-contained file)."""
    data = base64.b64encode(png).decode("ascii")
    return (f'<figure><img alt="{esc(caption)}" src="data:image/png;base64,{data}">'
            f"<figcaption>{esc(caption)}</figcaption></figure>")
