"""Test-case summary of table 10.1.9-1 and the points of Fig. 10.1.9-1 (cSize vs wer, werAnc as a line).

The figure itself is drawn by the report (harness.report.plots.save_rd_plot), which draws the same figure
from results rows: one drawing of it, and nothing below the report layer draws.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Sequence


@dataclass(frozen=True)
class RdPoint:
    coder: str
    c_size: float  # bitstream size / anchor size
    wer: float  # fraction


@dataclass(frozen=True)
class TestCaseSummary:
    wer_anc: float
    wer_max: float
    in_range: tuple[str, ...]
    required: int

    @property
    def satisfied(self) -> bool:
        return len(self.in_range) >= self.required


def summarize(points: Sequence[RdPoint], wer_anc: float, range_points: float = 5.0,
              required: int = 5) -> TestCaseSummary:
    """Which configurations give a WER in [werAnc, werAnc + range_points/100]; a configuration that beats the
    anchor (WER below werAnc) is counted as in range, since the range's purpose is bounding the loss."""
    wer_max = wer_anc + range_points / 100.0
    inside = tuple(p.coder for p in points if p.wer <= wer_max + 1e-12)
    return TestCaseSummary(wer_anc, wer_max, inside, required)


def rd_rows(points: Sequence[RdPoint], wer_anc: float) -> list[dict[str, Any]]:
    """The points as results rows of Fig. 10.1.9-1 (cSize as ``compress_ratio``, WER in percent as ``rec_perf``,
    werAnc as ``anc_perf``): the form the report draws that figure from (harness.report.plots.save_rd_plot)."""
    return [{"coder_name": p.coder, "compress_ratio": p.c_size, "rec_perf": 100 * p.wer, "anc_perf": 100 * wer_anc}
            for p in points]
