"""results.csv and results.json of one run read back to the same typed rows, whatever the row types."""
from __future__ import annotations

import json
import math
from pathlib import Path

from hypothesis import given, settings, strategies as st

from harness.results import parse_results_csv, parse_results_json, typed_rows, write_results

scalars = st.one_of(st.none(), st.booleans(), st.integers(-2**40, 2**40),
                    st.floats(allow_nan=True, allow_infinity=True, width=64),
                    st.text(st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")), max_size=12))
values = st.one_of(scalars, st.lists(st.one_of(st.integers(-100, 100), st.floats(allow_nan=False, width=32),
                                               st.booleans()), max_size=4),
                   st.dictionaries(st.sampled_from(["a", "b", "k1"]), st.integers(0, 9), max_size=3))
rows = st.lists(st.fixed_dictionaries({"scenario_name": st.sampled_from(["ssd", "asr", "bitinc"]),
                                       "coder_name": st.sampled_from(["none", "fp16", "nncodec:qp=-20"])},
                                      optional={"extra": values, "flag": st.booleans(), "configs": values,
                                                "rec_size": st.integers(0, 10**9)}),
                min_size=1, max_size=5)


def canonical(row: dict) -> str:
    """A typed row as comparable text: empty cells dropped (a CSV has no "absent"), NaN equal to NaN."""
    def fix(value):
        if isinstance(value, float) and math.isnan(value):
            return "nan"
        if isinstance(value, list):
            return [fix(v) for v in value]
        if isinstance(value, dict):
            return {k: fix(v) for k, v in value.items()}
        return value
    return json.dumps({k: fix(v) for k, v in row.items() if v not in (None, "")}, sort_keys=True)


@settings(max_examples=60, deadline=None)
@given(rows)
def test_csv_and_json_give_the_same_typed_rows(tmp_path_factory, written_rows):
    folder: Path = tmp_path_factory.mktemp("run")
    write_results(written_rows, folder)
    _, raw_json = parse_results_json((folder / "results.json").read_text(), "results.json")
    raw_csv = parse_results_csv((folder / "results.csv").read_text())
    from_json = sorted(canonical(r) for r in typed_rows(raw_json, "json"))
    from_csv = sorted(canonical(r) for r in typed_rows(raw_csv, "csv"))
    assert from_csv == from_json


def test_known_answers_of_the_types_that_broke_submissions(tmp_path: Path):
    write_results([{"scenario_name": "asr", "coder_name": "none", "test_case_satisfied": True,
                    "configs": [0, 1, 65], "shape": {"h": 75}, "wer": 7.94}], tmp_path)
    (row,) = typed_rows(parse_results_csv((tmp_path / "results.csv").read_text()), "csv")
    assert row["test_case_satisfied"] is True
    assert row["configs"] == [0, 1, 65] and row["shape"] == {"h": 75} and row["wer"] == 7.94
    assert "true" in (tmp_path / "results.csv").read_text().splitlines()[1]
