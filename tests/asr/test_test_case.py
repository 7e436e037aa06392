"""Seed 001 §10.1.9's test case, judged over the run's own cells (AsrScenario.check_run, which the plugin runs
once every cell of the run has finished; its row joins the results and a failure fails the run).

The test case of table 10.1.9-1: at least ``min_configs_in_range`` coder configurations whose WER lies within
[werAnc, werAnc + ``wer_range_points``]; the embedded model's sweep must discriminate (its coarsest
configuration costs >= 5 WER points) and must measure something (anchor WER within 1 %..10 %).
"""
from __future__ import annotations

import pytest

from harness.matrix import scenario_matrix
from harness.scenarios.asr import AsrScenario
from harness.scenarios.base import RunContext

pytestmark = pytest.mark.asr
MATRIX = scenario_matrix(AsrScenario)


@pytest.fixture(scope="module")
def embedded_rows() -> list[dict]:
    """The rows the generic cell test writes for every asr_small cell, from a real run of the cells."""
    scenario = AsrScenario(MATRIX, RunContext())
    rows = []
    for cell in (c for c in scenario.cells() if c["model_name"] == "asr_small"):
        outcome = scenario.run_cell(cell)
        scenario.check_cell(cell, outcome)
        rows.append({**cell.identity_row(), "cell_id": cell.id, **outcome.columns, "status": "pass"})
    return rows


def test_embedded_sweep_satisfies_table_10_1_9(embedded_rows: list[dict]) -> None:
    (row,) = AsrScenario(MATRIX, RunContext()).check_run(embedded_rows)
    assert row["cell_id"] == "asr-asr_small-embedded-cpu-test_case" and row["status"] == "pass", row
    assert row["test_case_satisfied"] and row["configs_in_range"] >= MATRIX["min_configs_in_range"]
    assert 0.01 <= row["anc_perf"] <= 0.10


def test_a_sweep_that_loses_too_much_fails_and_says_why(embedded_rows: list[dict]) -> None:
    worse = [dict(r, rec_perf=r["rec_perf"] + 0.2) if r["coder_name"] not in ("anchor", "raw") else r
             for r in embedded_rows]
    (row,) = AsrScenario(MATRIX, RunContext()).check_run(worse)
    assert row["status"] == "fail" and not row["test_case_satisfied"]
    assert "only 1 configuration(s) within werAnc + 5 points" in row["failure"]


def test_a_sweep_that_does_not_discriminate_fails(embedded_rows: list[dict]) -> None:
    flat = [dict(r, rec_perf=next(a["rec_perf"] for a in embedded_rows if a["coder_name"] == "anchor"))
            for r in embedded_rows]
    (row,) = AsrScenario(MATRIX, RunContext()).check_run(flat)
    assert row["status"] == "fail" and row["test_case_satisfied"] and "does not discriminate" in row["failure"]


def test_an_incomplete_sweep_is_not_judged(embedded_rows: list[dict]) -> None:
    assert AsrScenario(MATRIX, RunContext()).check_run(embedded_rows[:-1]) == []
    failed = [dict(r, status="fail") if i == 3 else r for i, r in enumerate(embedded_rows)]
    assert AsrScenario(MATRIX, RunContext()).check_run(failed) == []
