"""One progress line for a run: cells done, shards done/total, ETA; the same under Ray and under pytest-xdist.

The pytest side (harness.executors.plugin) counts finished cell tests on the process that sees every report
(the xdist controller, or the only process); the Ray executor, which runs in that same process, counts shards
as their partials arrive. The line is printed at most every ``--progress-every`` seconds, so a CI log gets a
heartbeat instead of one line per test.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Callable


def _duration(seconds: float) -> str:
    seconds = int(round(seconds))
    hours, rest = divmod(seconds, 3600)
    return f"{hours}:{rest // 60:02d}:{rest % 60:02d}" if hours else f"{rest // 60}:{rest % 60:02d}"


@dataclass
class Progress:
    cells_total: int = 0
    cells_done: int = 0
    shards_total: int = 0
    shards_done: int = 0  # computed in this run
    shards_stored: int = 0  # found complete in the shard store, not recomputed
    shards_failed: int = 0
    nodes: int = 0
    interval: float = 30.0
    emit: Callable[[str], None] | None = None
    clock: Callable[[], float] = time.monotonic
    started: float = field(default=0.0)
    _last_emit: float = field(default=float("-inf"))

    def __post_init__(self) -> None:
        self.started = self.clock()

    def eta(self) -> float | None:
        """Seconds left: from the shard rate while shards run, else from the cell rate; None before any data."""
        elapsed = self.clock() - self.started
        to_compute = self.shards_total - self.shards_stored
        if to_compute > 0 and self.shards_done + self.shards_failed < to_compute:
            finished = self.shards_done + self.shards_failed
            return elapsed / finished * (to_compute - finished) if finished else None
        if self.cells_done and self.cells_total:
            return elapsed / self.cells_done * max(self.cells_total - self.cells_done, 0)
        return None

    def line(self) -> str:
        parts = [f"cells {self.cells_done}/{self.cells_total}"]
        if self.shards_total:
            shards = f"shards {self.shards_done + self.shards_stored}/{self.shards_total}"
            extras = [f"{self.shards_stored} from store"] if self.shards_stored else []
            extras += [f"{self.shards_failed} failed"] if self.shards_failed else []
            extras += [f"{self.nodes} node(s)"] if self.nodes else []
            parts.append(shards + (f" ({', '.join(extras)})" if extras else ""))
        eta = self.eta()
        parts.append(f"elapsed {_duration(self.clock() - self.started)}")
        parts.append(f"ETA {_duration(eta)}" if eta is not None else "ETA -")
        return "progress: " + ", ".join(parts)

    def tick(self, force: bool = False) -> None:
        """Print the line if ``interval`` seconds passed since the last one (or ``force``)."""
        if self.emit is None or self.interval <= 0:
            return
        now = self.clock()
        if force or now - self._last_emit >= self.interval:
            self._last_emit = now
            self.emit(self.line())
