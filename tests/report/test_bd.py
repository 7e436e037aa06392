"""Bjontegaard deltas against published reference-implementation values and analytic known answers."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from harness.cli import main
from harness.report.bd import Curve, bd_delta, pareto_front

# Example data of the FAU-LMS "bjontegaard" package README / bjontegaard-matlab example_usage.m (x265 presets)
LOW = ([9487.76, 4593.60, 2486.44, 1358.24], [40.037, 38.615, 36.845, 34.851],
       [9787.80, 4469.00, 2451.52, 1356.24], [40.121, 38.651, 36.970, 34.987])
HIGH = ([82472.76, 26875.24, 9487.76, 4593.6], [43.825, 41.404, 40.037, 38.615],
        [99896.96, 33952.04, 9787.8, 4469.0], [44.731, 41.875, 40.121, 38.651])
# Values printed by bjontegaard 1.3.0 (PyPI; its PCHIP matches the JCTVC-L1100 Excel sheet to 10 digits,
# its 'cubic' is the VCEG-M33 np.polyfit(…, 3) of google/compare-codecs) for these data.
REFERENCE = {
    ("low", "cubic"): (-4.420462706125383, 0.12040941911451103),
    ("low", "pchip"): (-4.417485350589045, 0.11969278542479489),
    ("high", "cubic"): (-4.699437548068142, 0.09540440289143115),
    ("high", "pchip"): (-4.47218200276197, 0.08887484704747745),
}
DATA = {"low": LOW, "high": HIGH}


def _curves(data):
    ra, ma, rt, mt = data
    return Curve.from_points("anchor", ra, ma), Curve.from_points("test", rt, mt)


@pytest.mark.parametrize("data,method", sorted(REFERENCE))
def test_matches_reference_implementation_values(data, method):
    result = bd_delta(*_curves(DATA[data]), method)
    want_rate, want_metric = REFERENCE[(data, method)]
    assert result.bd_rate_percent == pytest.approx(want_rate, abs=1e-9)
    assert result.bd_metric == pytest.approx(want_metric, abs=1e-9)
    assert result.warnings == [] and result.monotonic == {"anchor": True, "test": True}


@pytest.mark.parametrize("method", ["cubic", "pchip"])
def test_live_cross_check_with_bjontegaard_package(method):
    import bjontegaard as bd  # a declared dependency (pyproject.toml): absent, the test fails
    for data in DATA.values():
        result = bd_delta(*_curves(data), method)
        assert result.bd_rate_percent == pytest.approx(bd.bd_rate(*data, method=method), abs=1e-9)
        assert result.bd_metric == pytest.approx(bd.bd_psnr(*data, method=method), abs=1e-9)


monotone_curves = st.lists(st.floats(0.1, 10.0), min_size=4, max_size=7).map(np.cumsum)


@settings(max_examples=40, deadline=None)
@given(steps=monotone_curves, rate_steps=monotone_curves, factor=st.floats(0.3, 3.0),
       method=st.sampled_from(["cubic", "pchip"]))
# close metric values make the cubic fit's Vandermonde system ill-conditioned: 99.9999987 % for 100 %
@example(steps=np.array([1.0, 1.25, 1.359375, 1.46875]), rate_steps=np.array([1.0, 2.5, 4.5, 5.5]), factor=2.0,
         method="cubic")
def test_rate_scaled_curve_gives_exact_bd_rate(steps, rate_steps, factor, method):
    n = min(len(steps), len(rate_steps))
    rates, metric = 100.0 * rate_steps[:n], 20.0 + steps[:n]
    result = bd_delta(Curve.from_points("a", rates, metric), Curve.from_points("t", rates * factor, metric), method)
    # exact in real arithmetic; in floats the fit of near-equal metric values keeps about 8 digits
    assert result.bd_rate_percent == pytest.approx((factor - 1.0) * 100.0, rel=1e-7, abs=1e-6)


@settings(max_examples=40, deadline=None)
@given(steps=monotone_curves, shift=st.floats(-5.0, 5.0), method=st.sampled_from(["cubic", "pchip"]))
def test_metric_shifted_curve_gives_bd_metric_equal_to_shift(steps, shift, method):
    rates = 1000.0 * 2.0 ** np.arange(len(steps))
    result = bd_delta(Curve.from_points("a", rates, steps), Curve.from_points("t", rates, steps + shift), method)
    assert result.bd_metric == pytest.approx(shift, abs=1e-6)


def test_partial_overlap_gives_the_defined_delta_only():
    result = bd_delta(Curve.from_points("a", [1, 2, 3, 4], [1, 2, 3, 4]),
                      Curve.from_points("t", [10, 20, 30, 40], [1, 2, 3, 4]), "pchip")
    assert result.bd_rate_percent == pytest.approx(900.0) and result.bd_metric is None
    assert result.warnings == ["rate ranges do not overlap: no BD-metric"]


def test_minus_ten_percent_with_both_methods():
    ra, ma = LOW[0], LOW[1]
    for method in ("cubic", "pchip"):
        result = bd_delta(Curve.from_points("a", ra, ma), Curve.from_points("t", np.array(ra) * 0.9, ma), method)
        assert round(result.bd_rate_percent, 2) == -10.00


def test_lower_is_better_metric_works_too():
    rates = [1.0, 2.0, 4.0, 8.0]
    wer = [0.2, 0.1, 0.07, 0.06]
    result = bd_delta(Curve.from_points("a", rates, wer), Curve.from_points("t", [r * 0.5 for r in rates], wer), "pchip")
    assert result.bd_rate_percent == pytest.approx(-50.0)


def test_pchip_refuses_non_monotonic_curve_and_cubic_warns():
    anchor = Curve.from_points("anchor", [1, 2, 3, 4], [1, 3, 2, 5])
    test = Curve.from_points("test", [1, 2, 3, 4], [1, 2, 3, 5])
    with pytest.raises(ValueError, match="'anchor' is not strictly monotonic"):
        bd_delta(anchor, test, "pchip")
    result = bd_delta(anchor, test, "cubic")
    assert result.monotonic == {"anchor": False, "test": True}
    assert any("not strictly monotonic" in w for w in result.warnings)


@pytest.mark.parametrize("anchor,test,method,message", [
    (([1, 2, 3], [1, 2, 3]), ([1, 2, 3], [1, 2, 3]), "cubic", "needs at least 4"),
    (([1, 2], [1, 2]), ([3, 4], [3, 4]), "pchip", "overlap neither in metric"),
    (([0, 2], [1, 2]), ([1, 2], [1, 2]), "pchip", "rates must be > 0"),
    (([1, 2], [1, 2]), ([1, 2], [1]), "pchip", "same length"),
    (([1, 2], [1, float("nan")]), ([1, 2], [1, 2]), "pchip", "finite"),
    (([1, 2], [1, 2]), ([1, 2], [1, 2]), "spline", "unknown BD method"),
])
def test_bad_curves_are_clear_errors(anchor, test, method, message):
    with pytest.raises(ValueError, match=message):
        bd_delta(Curve.from_points("a", *anchor), Curve.from_points("t", *test), method)


def test_pareto_front_drops_dominated_points():
    assert pareto_front([1, 2, 3, 4], [10, 10, 12, 11]) == [0, 2]
    assert pareto_front([4, 3, 2, 1], [0.1, 0.1, 0.2, 0.3], higher_is_better=False) == [3, 2, 1]


def _csv(path: Path, rates, metric) -> Path:
    path.write_text("rate,metric\n" + "".join(f"{r},{m}\n" for r, m in zip(rates, metric)))
    return path


def test_cli_prints_json(tmp_path, capsys):
    a = _csv(tmp_path / "a.csv", LOW[0], LOW[1])
    t = _csv(tmp_path / "t.csv", LOW[2], LOW[3])
    assert main(["bd-rate", "--anchor", str(a), "--test", str(t), "--method", "pchip"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["bd_rate_percent"] == pytest.approx(REFERENCE[("low", "pchip")][0], abs=1e-9)
    assert out["bd_metric"] == pytest.approx(REFERENCE[("low", "pchip")][1], abs=1e-9)
    assert out["monotonic"] == {"anchor": True, "test": True} and out["method"] == "pchip"


@pytest.mark.parametrize("content,message", [
    ("r,m\n1,2\n", "header must name columns 'rate' and 'metric'"),
    ("rate,metric\n1,abc\n", "must be numbers"),
])
def test_cli_bad_csv_is_one_line_error(tmp_path, capsys, content, message):
    bad = tmp_path / "bad.csv"
    bad.write_text(content)
    good = _csv(tmp_path / "t.csv", LOW[2], LOW[3])
    assert main(["bd-rate", "--anchor", str(bad), "--test", str(good)]) == 1
    err = capsys.readouterr().err
    assert err.startswith("error:") and message in err and err.count("\n") == 1


def test_cli_missing_file(tmp_path, capsys):
    assert main(["bd-rate", "--anchor", str(tmp_path / "no.csv"), "--test", str(tmp_path / "no.csv")]) == 1
    assert "not found" in capsys.readouterr().err
