"""The same subset of the ``ssd`` matrix with one and with two xdist workers, in one session: the speed-up of the
second worker and each run's own efficiency (wall / (work / workers), per-worker start-up), as pytest-benchmark
extra_info. Excluded from the default run (it runs the subset twice, a few minutes on 2 cores):

    pytest tests/pytest_plugin/test_worker_scaling.py -m benchmark -s --benchmark-json=scaling.json

Warm caches first (the part-1 store of each split), so both runs measure cells, not the store build: the
benchmark runs the subset once with one worker before timing either. The subset's default is the issue's
``-k "split30 or split90"`` of the embedded detector; ``HARNESS_SCALING_K`` sets another.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.benchmark

REPO = Path(__file__).resolve().parents[2]
SUBSET = os.environ.get("HARNESS_SCALING_K", "ssd_small and shapes50_selected and (split30 or split90)")


def run_subset(workers: int, results: Path) -> dict:
    """One pytest run of the subset on ``workers`` workers: wall seconds and the run's efficiency figures."""
    command = [sys.executable, "-m", "pytest", "-q", "-p", "no:randomly", "-n", str(workers), "-m", "ssd",
               "-k", SUBSET, "--results-dir", str(results), "tests/scenarios"]
    start = time.monotonic()
    done = subprocess.run(command, cwd=REPO, capture_output=True, text=True)
    wall = time.monotonic() - start
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    environment = json.loads((results / "results.json").read_text()).get("environment", {})
    return {"wall_s": wall, **(environment.get("efficiency") or {})}


def test_second_worker_speed_up(benchmark, tmp_path: Path) -> None:
    run_subset(1, tmp_path / "warm")  # the part-1 stores of the subset's splits, built once

    def both() -> dict:
        return {workers: run_subset(workers, tmp_path / f"n{workers}") for workers in (1, 2)}

    runs = benchmark.pedantic(both, rounds=1, iterations=1)
    one, two = runs[1], runs[2]
    speed_up = one["wall_s"] / two["wall_s"]
    benchmark.extra_info.update({
        "subset": SUBSET, "speed_up": speed_up,
        **{f"n{w}_{key}": runs[w].get(key) for w in (1, 2)
           for key in ("wall_s", "cell_work_s", "ratio", "ratio_all_tests", "startup_s")},
    })
    print(f"\n-n 1: {one['wall_s']:.1f} s (ratio {one.get('ratio')}), -n 2: {two['wall_s']:.1f} s "
          f"(ratio {two.get('ratio')}), speed-up {speed_up:.2f}; start-up n1 {one.get('startup_s')}, "
          f"n2 {two.get('startup_s')}")
    assert abs(one["cell_work_s"] - two["cell_work_s"]) < 0.5 * one["cell_work_s"], "the two runs did other work"
    assert speed_up > 1.0
