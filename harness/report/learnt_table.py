"""Seed 003's tables for the coders that carry an entropy model or layers: rate estimated against written, and
the device-side / server-side run time, per split point and rate point.

Rows: split x coder rows of any detection scenario with an ``estimated_bytes`` column (the entropy model's
-Σ log2 p(ŷ) / 8, harness.coders.base.Coder.estimated_bytes) or a layered coder (``layers`` rate parameter:
learnt-scalable, pca). Per image: written kilobits (``kbpi``), estimated kilobits, their gap in percent of
the estimate (container, headers and the range coder's flush are the written side's overhead), accuracy,
device time (part 1 + feature encoder) and server time (feature decoder + part 2), both in milliseconds.
The rate-accuracy curves and BD-KBPI of these families beside NNCodec, HEVC and the cloud-only anchor are the
BD-KBPI section's.
"""
from __future__ import annotations

from typing import Any

from harness.report.curves import coder_family, split_sort_key
from harness.report.describe import coder_view
from harness.report.figures import SECTIONS, Page
from harness.report.load import as_float
from harness.report.markup import esc, fmt, note, table

TEXT = ' class="t"'


def _is_learnt_row(row: dict[str, Any]) -> bool:
    if not row.get("split") or row.get("coder_name") in (None, "", "anchor"):
        return False
    return as_float(row.get("estimated_bytes")) is not None or coder_view(str(row["coder_name"])).rate_param == "layers"


def _per_image(row: dict[str, Any], column: str, scale: float) -> float | None:
    value, images = as_float(row.get(column)), as_float(row.get("images"))
    if value is None:
        return None
    kbpi, rec_size = as_float(row.get("kbpi")), as_float(row.get("rec_size"))
    if images is None and kbpi and rec_size:
        images = rec_size * 8 / 1000 / kbpi  # the images of the cell, from its own rate columns
    return value * scale / images if images else None


def learnt_rows(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The rows of the section, one per cell, in (model, split, family, rate) order."""
    chosen = [r for r in rows if _is_learnt_row(r)]
    return sorted(chosen, key=lambda r: (str(r.get("model_name")), str(r.get("device")),
                                         split_sort_key(str(r.get("split"))), coder_family(str(r["coder_name"])),
                                         as_float(r.get("kbpi")) or 0.0))


def learnt_table(rows: list[dict[str, Any]]) -> str:
    body = []
    for row in learnt_rows(rows):
        estimated = _per_image(row, "estimated_bytes", 8 / 1000)
        written = as_float(row.get("kbpi"))
        gap = (written - estimated) / estimated * 100 if estimated and written is not None else None
        body.append(f"<tr><td{TEXT}>{esc(row.get('model_name'))}</td><td{TEXT}>{esc(row.get('split'))}</td>"
                    f"<td{TEXT}>{esc(row.get('coder_name'))}</td><td>{esc(fmt(written, 4))}</td>"
                    f"<td>{esc(fmt(estimated, 4))}</td><td>{esc(fmt(gap, 3))}</td>"
                    f"<td>{esc(fmt(as_float(row.get('rec_perf')), 4))}</td>"
                    f"<td>{esc(fmt(_per_image(row, 'device_time', 1000), 3))}</td>"
                    f"<td>{esc(fmt(_per_image(row, 'server_time', 1000), 3))}</td></tr>")
    if not body:
        return ""
    return table(["model", "split", "coder", "written kbit/image", "estimated kbit/image", "gap %", "accuracy",
                  "device ms/image", "server ms/image"], body, ' data-table="learnt"',
                 caption="Learnt, scalable and PCA coders: rate written against the entropy model's estimate, and "
                         "run time (device: part 1 + feature encoder; server: feature decoder + part 2)")


@SECTIONS.register("learnt_coders")
def _learnt_page_section(page: Page) -> str:
    text = learnt_table(page.rows)
    if not text:
        return ""
    return ('<h2 id="learnt-coders">Learnt feature coders (seed 003)</h2>'
            + note("Estimated: -Σ log2 p(ŷ) of the coder's entropy model; written: the container's bytes. "
                   "Times are means per image of this run's machine.") + text)
