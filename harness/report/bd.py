"""Bjontegaard delta rate and delta metric between two rate/metric curves (seed 002's BD-KBPI-mAP).

Two interpolations:

* ``cubic``: VCEG-M33 (Bjontegaard 2001, the method seed 002 cites): a least-squares 3rd-order polynomial
  of log10(rate) against the metric (for BD-rate) and of the metric against log10(rate) (for BD-metric),
  integrated over the overlapping interval. Needs at least 4 points per curve. A non-monotonic curve is
  still fitted, but the result says so in ``warnings`` (the polynomial may then be meaningless).
* ``pchip``: piecewise cubic Hermite interpolation (JCTVC-L1100 / JVET CTC spreadsheets), through
  ``scipy.interpolate.PchipInterpolator``. Needs at least 2 points and curves whose metric is strictly
  monotonic in rate (otherwise log-rate is not a function of the metric): a non-monotonic curve is an
  error naming the curve and the offending points.

The metric may be higher-is-better (mAP) or lower-is-better (WER): the integrals do not care. BD-rate is
in percent (negative = the test curve needs less rate for the same metric); BD-metric is test minus anchor
in the metric's unit, averaged over the common log-rate interval.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Sequence

import numpy as np
from scipy.interpolate import PchipInterpolator

METHODS = ("cubic", "pchip")
MIN_POINTS = {"cubic": 4, "pchip": 2}


@dataclass(frozen=True)
class Curve:
    """One RD curve, points sorted by increasing rate."""

    name: str
    rate: np.ndarray
    metric: np.ndarray

    @classmethod
    def from_points(cls, name: str, rate: Sequence[float], metric: Sequence[float]) -> "Curve":
        rate_a = np.asarray(rate, dtype=np.float64)
        metric_a = np.asarray(metric, dtype=np.float64)
        if rate_a.ndim != 1 or rate_a.shape != metric_a.shape:
            raise ValueError(f"curve {name!r}: rate and metric must be two lists of the same length "
                             f"(got {rate_a.size} rates and {metric_a.size} metric values)")
        if not (np.all(np.isfinite(rate_a)) and np.all(np.isfinite(metric_a))):
            raise ValueError(f"curve {name!r}: rates and metric values must be finite numbers")
        if np.any(rate_a <= 0):
            raise ValueError(f"curve {name!r}: rates must be > 0 (BD works on log-rate); got {rate_a.tolist()}")
        order = np.argsort(rate_a, kind="stable")
        return cls(name, rate_a[order], metric_a[order])

    def monotonic_problem(self) -> str | None:
        """Why the curve is not strictly monotonic (metric against rate), or None when it is."""
        if np.unique(self.rate).size != self.rate.size:
            return f"curve {self.name!r} has repeated rates {self.rate.tolist()}"
        steps = np.diff(self.metric)
        if np.all(steps > 0) or np.all(steps < 0):
            return None
        return (f"curve {self.name!r} is not strictly monotonic: metric {self.metric.tolist()} "
                f"at rates {self.rate.tolist()}")


@dataclass(frozen=True)
class BDResult:
    bd_rate_percent: float | None  # None when the metric ranges do not overlap (said in warnings)
    bd_metric: float | None  # None when the rate ranges do not overlap
    method: str
    metric_interval: tuple[float, float] | None
    log10_rate_interval: tuple[float, float] | None
    warnings: list[str] = field(default_factory=list)
    monotonic: dict[str, bool] = field(default_factory=dict)

    def as_dict(self) -> dict:
        return {
            "bd_rate_percent": self.bd_rate_percent,
            "bd_metric": self.bd_metric,
            "method": self.method,
            "metric_interval": list(self.metric_interval) if self.metric_interval else None,
            "log10_rate_interval": list(self.log10_rate_interval) if self.log10_rate_interval else None,
            "warnings": list(self.warnings),
            "monotonic": dict(self.monotonic),
        }


def _overlap(a: np.ndarray, b: np.ndarray) -> tuple[float, float] | None:
    low, high = max(a.min(), b.min()), min(a.max(), b.max())
    return (float(low), float(high)) if high > low else None


def _mean_cubic(x: np.ndarray, y: np.ndarray, low: float, high: float) -> float:
    """Mean of the least-squares cubic y(x) over [low, high]."""
    antiderivative = np.polyint(np.polyfit(x, y, 3))
    return float((np.polyval(antiderivative, high) - np.polyval(antiderivative, low)) / (high - low))


def _mean_pchip(x: np.ndarray, y: np.ndarray, low: float, high: float) -> float:
    order = np.argsort(x, kind="stable")
    return float(PchipInterpolator(x[order], y[order]).integrate(low, high) / (high - low))


def bd_delta(anchor: Curve, test: Curve, method: str = "pchip") -> BDResult:
    """Bjontegaard delta rate (%) and delta metric of ``test`` against ``anchor``."""
    if method not in METHODS:
        raise ValueError(f"unknown BD method {method!r}; use one of {', '.join(METHODS)}")
    warnings: list[str] = []
    monotonic = {"anchor": anchor.monotonic_problem() is None, "test": test.monotonic_problem() is None}
    for curve in (anchor, test):
        if curve.rate.size < MIN_POINTS[method]:
            raise ValueError(f"curve {curve.name!r} has {curve.rate.size} point(s); the {method} method needs "
                             f"at least {MIN_POINTS[method]}" + (" (use --method pchip)" if method == "cubic" else ""))
        problem = curve.monotonic_problem()
        if problem and method == "pchip":
            raise ValueError(problem + "; pchip needs strictly monotonic curves (use --method cubic to fit "
                                       "a polynomial anyway, or drop the dominated points)")
        if problem:
            warnings.append(problem + "; the cubic fit may be unreliable")
    log_a, log_t = np.log10(anchor.rate), np.log10(test.rate)
    m_range, r_range = _overlap(anchor.metric, test.metric), _overlap(log_a, log_t)
    if m_range is None and r_range is None:
        raise ValueError(f"curves {anchor.name!r} and {test.name!r} overlap neither in metric "
                         f"({anchor.metric.min():g}..{anchor.metric.max():g} vs {test.metric.min():g}.."
                         f"{test.metric.max():g}) nor in rate: no Bjontegaard delta")
    mean = _mean_cubic if method == "cubic" else _mean_pchip
    bd_rate = bd_metric = None
    if m_range is None:
        warnings.append("metric ranges do not overlap: no BD-rate")
    else:
        delta_log_rate = mean(test.metric, log_t, *m_range) - mean(anchor.metric, log_a, *m_range)
        bd_rate = (10.0 ** delta_log_rate - 1.0) * 100.0 if delta_log_rate < 300 else math.inf
    if r_range is None:
        warnings.append("rate ranges do not overlap: no BD-metric")
    else:
        bd_metric = mean(log_t, test.metric, *r_range) - mean(log_a, anchor.metric, *r_range)
    return BDResult(bd_rate, bd_metric, method, m_range, r_range, warnings, monotonic)


def pareto_front(rate: Sequence[float], metric: Sequence[float], higher_is_better: bool = True) -> list[int]:
    """Indices of the points that no other point beats with less or equal rate (rate-sorted).

    Why: saturated accuracy (several QPs at mAP 100) makes a curve non-monotonic; the report computes BD on
    the operating points a user would actually pick, and says how many were dropped.
    """
    sign = 1.0 if higher_is_better else -1.0
    order = sorted(range(len(rate)), key=lambda i: (rate[i], -sign * metric[i]))
    kept: list[int] = []
    best = -math.inf
    for i in order:
        if sign * metric[i] > best and (not kept or rate[i] > rate[kept[-1]]):
            kept.append(i)
            best = sign * metric[i]
    return kept
