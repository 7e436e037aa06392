"""Test-case summary of table 10.1.9-1 and the RD plot of Fig. 10.1.9-1 (cSize vs wer, werAnc as a line)."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

from harness.files import atomic_write


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


def save_rd_plot(points: Sequence[RdPoint], wer_anc: float, path: Path, title: str, range_points: float = 5.0) -> Path:
    """PNG in the style of Fig. 10.1.9-1, written atomically."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6.4, 4.2), dpi=100)
    families: dict[str, list[RdPoint]] = {}
    for p in points:
        families.setdefault(p.coder.split(":")[0], []).append(p)
    for family, pts in sorted(families.items()):
        pts = sorted(pts, key=lambda p: p.c_size)
        ax.plot([p.c_size for p in pts], [100 * p.wer for p in pts], marker="o", label=family)
    ax.axhline(100 * wer_anc, color="black", linestyle="--", linewidth=1, label="werAnc")
    ax.axhspan(100 * wer_anc, 100 * wer_anc + range_points, color="grey", alpha=0.15, label=f"werAnc + {range_points:g}")
    ax.set_xlabel("cSize (bitstream size / sizeAnc)")
    ax.set_ylabel("wer [%]")
    ax.set_title(title)
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize="small")
    fig.tight_layout()
    try:
        atomic_write(path, lambda handle: fig.savefig(handle, format="png"))
    finally:
        plt.close(fig)
    return path
