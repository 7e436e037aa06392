"""The generic registry, references/tolerances and results writing that every scenario relies on."""
from __future__ import annotations

import csv
import json
import math

import pytest
from hypothesis import assume, example, given, strategies as st

from harness.references import Gate, Tolerance, compare_metrics, get_reference, set_reference, tolerance_for
from harness.registry import Registry, RegistryError
from harness.results import write_results


def test_registry_registers_and_lists_names():
    things: Registry[type] = Registry("thing")

    @things.register("b")
    class B:
        pass

    @things.register("a")
    class A:
        pass

    assert things.get("a") is A and things.get("b") is B
    assert things.names() == ["a", "b"] and "a" in things and "c" not in things


def test_registry_unknown_name_lists_known_ones():
    things: Registry[object] = Registry("thing")
    things.register("only")(object())
    with pytest.raises(RegistryError, match=r"unknown thing 'nope'; known: only"):
        things.get("nope")


def test_registry_rejects_duplicate_names():
    things: Registry[object] = Registry("thing")
    things.register("x")(1)
    with pytest.raises(RegistryError, match="already registered"):
        things.register("x")(2)


@pytest.mark.parametrize("tol, measured, expected, accepted", [
    (Tolerance(abs=0.5), 90.4, 90.0, True), (Tolerance(abs=0.5), 90.5, 90.0, True),
    (Tolerance(abs=0.5), 90.51, 90.0, False), (Tolerance(abs=0.5), 89.4, 90.0, False),
    (Tolerance(rel=0.01), 101.0, 100.0, True), (Tolerance(rel=0.01), 98.9, 100.0, False),
    (Tolerance(rel=0.01), -101.0, -100.0, True),  # relative to the reference's magnitude
    (Tolerance(abs=1.0, rel=0.1), 111.0, 100.0, True), (Tolerance(abs=1.0, rel=0.1), 111.5, 100.0, False),
    (Tolerance(), 7, 7, True), (Tolerance(), 7.000001, 7, False),  # sizes: exact
])
def test_tolerance_known_answers(tol, measured, expected, accepted):
    assert tol.accepts(measured, expected) is accepted


@given(expected=st.floats(-1e6, 1e6), small=st.floats(0, 10), extra=st.floats(0, 10),
       abs_tol=st.floats(0, 5), rel_tol=st.floats(0, 0.5))
@example(expected=1.0, small=1.2, extra=0.0, abs_tol=1.2, rel_tol=0.0)  # the inexact deviation found once in CI
def test_tolerance_is_symmetric_and_monotonic(expected, small, extra, abs_tol, rel_tol):
    tol = Tolerance(abs=abs_tol, rel=rel_tol)
    # deviations the floats represent exactly: 1.0 + 1.2 is 1.2000000000000002 away from 1.0, 1.0 - 1.2 is not,
    # so at the boundary the inputs, not the formula, would break the symmetry
    assume((expected + small) - expected == small == expected - (expected - small))
    assert tol.accepts(expected + small, expected) == tol.accepts(expected - small, expected)
    if tol.accepts(expected + small + extra, expected):  # what a larger deviation passes, a smaller one passes
        assert tol.accepts(expected + small, expected)
    assert tol.accepts(expected, expected)


def test_check_against_reference_raises_a_typed_breach_with_verdicts(tmp_path):
    from harness.references import NoReference, ReferenceBreach, check_against_reference

    path = tmp_path / "refs.json"
    tolerances = {"default": {"abs": 0.0}, "metrics": {"mAP": {"abs": 0.5}}}
    with pytest.raises(NoReference, match="no reference at s/cell"):
        check_against_reference(["s", "cell"], {"mAP": 90.0}, tolerances, path=path)
    check_against_reference(["s", "cell"], {"mAP": 90.0, "rec_size": 100}, tolerances, update=True, path=path)
    verdicts = check_against_reference(["s", "cell"], {"mAP": 90.3, "rec_size": 100}, tolerances, path=path)
    assert [v.rsplit(": ", 1)[1] for v in verdicts] == ["pass", "pass"]
    with pytest.raises(ReferenceBreach) as caught:
        check_against_reference(["s", "cell"], {"mAP": 89.0, "rec_size": 100}, tolerances, path=path)
    assert caught.value.key == "s/cell" and len(caught.value.breaches) == 1
    assert caught.value.breaches[0].startswith("mAP: measured 89.0, reference 90.0")
    assert sorted(v.rsplit(": ", 1)[1] for v in caught.value.verdicts) == ["FAIL", "pass"]


def test_tolerance_nan_never_matches_a_number():
    assert not Tolerance(abs=1e9).accepts(math.nan, 1.0)


def test_compare_metrics_names_each_breach():
    tolerances = {"default": {"abs": 0.0}, "metrics": {"mAP": {"abs": 0.5}}}
    breaches = compare_metrics({"mAP": 90.4, "rec_size": 101}, {"mAP": 90.0, "rec_size": 100, "wer": 0.1}, tolerances)
    assert len(breaches) == 2
    assert any(b.startswith("rec_size: measured 101, reference 100") for b in breaches)
    assert any(b.startswith("wer: not measured") for b in breaches)


def test_a_gating_metric_the_reference_lacks_is_a_breach():
    breaches = compare_metrics({"mAP": 90.0, "AP50": 70.0}, {"mAP": 90.0}, {"default": {"abs": 0.0}})
    assert breaches == ["AP50: measured 70.0, but the reference records no AP50; record it with --update-references"]


def test_repository_tolerances_cover_sizes_exactly():
    assert tolerance_for("rec_size") == Tolerance(abs=0.0, rel=0.0)


def test_cross_platform_bands_widen_only_what_a_platform_can_change():
    cross = Gate(cross_platform=True, sizes_follow_inference=True)
    shape_only = Gate(cross_platform=True, sizes_follow_inference=False)
    # a value-dependent bitstream of inferred features: 1 %; the same size of a raw/fp16/int8 or coded model: exact
    assert tolerance_for("compressed_bytes", gate=cross) == Tolerance(abs=0.0, rel=0.01)
    assert tolerance_for("compressed_bytes", gate=shape_only) == tolerance_for("compressed_bytes") == Tolerance()
    # accuracy in points, wider than on one platform; metrics the section does not list keep their tolerance
    assert tolerance_for("calc_map", gate=cross).abs > tolerance_for("calc_map").abs
    assert tolerance_for("layers", gate=cross) == tolerance_for("layers")
    assert tolerance_for("split_nmse", gate=cross) == Tolerance(abs=1e-5)  # seed 001 §10.3.9.1
    # the acceptance formula is the same: a 0.5 % size change passes across platforms, fails on one
    assert compare_metrics({"compressed_bytes": 1005}, {"compressed_bytes": 1000}, gate=cross) == []
    assert compare_metrics({"compressed_bytes": 1005}, {"compressed_bytes": 1000}, gate=shape_only)
    assert compare_metrics({"compressed_bytes": 1011}, {"compressed_bytes": 1000}, gate=cross)


def test_set_and_get_reference_round_trip(tmp_path):
    path = tmp_path / "refs.json"
    assert get_reference(["a", "b"], path) is None
    set_reference(["a", "b"], {"x": 1}, path)
    set_reference(["a", "c"], 2, path)
    assert get_reference(["a", "b"], path) == {"x": 1}
    assert json.loads(path.read_text()) == {"a": {"b": {"x": 1}, "c": 2}}
    assert not list(tmp_path.glob("*.tmp"))


def test_results_written_in_deterministic_order(tmp_path):
    rows = [{"test_id": "t2", "rec_size": 2}, {"test_id": "t1", "rec_size": 1, "extra": math.inf}]
    write_results(rows, tmp_path)
    write_results(list(reversed(rows)), tmp_path / "again")
    assert (tmp_path / "results.csv").read_text() == (tmp_path / "again" / "results.csv").read_text()
    with open(tmp_path / "results.csv") as handle:
        parsed = list(csv.DictReader(handle))
    assert [r["test_id"] for r in parsed] == ["t1", "t2"]
    assert json.loads((tmp_path / "results.json").read_text())["rows"][0]["extra"] == "inf"


def test_accuracy_as_a_fraction_of_the_anchor():
    from harness.scenarios.base import Metric

    assert Metric("calc_map", "percent", higher_is_better=True).fraction_of_anchor(99.0, 100.0) == 0.99
    # an error rate: the ratio of the complements (word accuracy 0.90 against 0.95)
    assert Metric("wer", "fraction", higher_is_better=False).fraction_of_anchor(0.10, 0.05) == \
        pytest.approx(0.90 / 0.95)
    assert Metric("wer", "percent", higher_is_better=False).fraction_of_anchor(10.0, 5.0) == pytest.approx(90 / 95)
    assert Metric("rec_size", "bytes").fraction_of_anchor(1.0, 2.0) is None
    assert Metric("AP", "percent", higher_is_better=True).fraction_of_anchor(1.0, 0.0) is None
