"""The delivery model (harness.split.delivery) against hand-computed answers."""
from __future__ import annotations

import pytest
from hypothesis import given, strategies as st

from harness.split.delivery import (
    ConfigCost, anchors, best_per_bandwidth, download_ms, latency_rows, sweep_summary, transmission_ms,
)


def test_transmission_known_answers():
    assert transmission_ms(1_000_000, 8.0) == pytest.approx(1000.0)  # 8 Mbit at 8 Mbit/s = 1 s
    assert transmission_ms(125_000, 100.0, rtt_ms=20.0) == pytest.approx(30.0)
    assert transmission_ms(0, 10.0, rtt_ms=20.0) == 0.0  # nothing sent, no round trip
    assert download_ms(13_281_133, 50.0) == pytest.approx(2124.98128)


@pytest.mark.parametrize("bandwidth", [0, -5.0])
def test_bandwidth_must_be_positive(bandwidth):
    with pytest.raises(ValueError, match="must be > 0"):
        transmission_ms(10, bandwidth)


def costs() -> list[ConfigCost]:
    # k=0 sends a big input, k=1 a small feature after a cheap layer, k=2 only the output after a slow device run
    return [ConfigCost(0, 0.0, 0.0, 1_000_000, 0.0, 10.0), ConfigCost(1, 5.0, 1.0, 100_000, 1.0, 8.0),
            ConfigCost(2, 200.0, 0.0, 1_000, 0.0, 0.0)]


def test_best_configuration_moves_with_bandwidth():
    rows = latency_rows(costs(), [1.0, 100.0, 10_000.0])
    best = best_per_bandwidth(rows)
    # 1 Mbit/s: k=0 8010 ms, k=1 815 ms, k=2 208 ms; 100: 90 / 23 / 200.08; 10 Gbit/s: 10.8 / 15.08 / 200
    assert best == {"1": 2, "100": 1, "10000": 0}
    total = {(r["k"], r["bandwidth_mbps"]): r["total_ms"] for r in rows}
    assert total[(1, 100.0)] == pytest.approx(5 + 1 + 8 + 1 + 8)


def test_tie_goes_to_the_smaller_k():
    tie = [ConfigCost(3, 1.0, 0, 0, 0, 0), ConfigCost(2, 0.5, 0, 0, 0, 0.5)]
    assert best_per_bandwidth(latency_rows(tie, [10.0])) == {"10": 2}


def test_anchors_and_summary_layout():
    assert anchors(31) == {"all_on_device": 31, "all_in_network": 0, "first_layers_on_device": 1}
    with pytest.raises(ValueError):
        anchors(3, privacy_layers=4)
    summary = sweep_summary(2, [{"k": 0}, {"k": 1}, {"k": 2}], costs(), [10.0, 2.5])
    assert list(summary) == ["layers", "configs", "bandwidths_mbps", "latency", "best"]
    assert set(summary["latency"][0]) == {"k", "bandwidth_mbps", "transmission_ms", "total_ms"}
    assert set(summary["best"]) == {"10", "2.5"}


@given(st.lists(st.integers(0, 10**7), min_size=1, max_size=6), st.floats(0.1, 1e4))
def test_best_is_the_minimum_total(sizes, bandwidth):
    cost = [ConfigCost(k, float(k), 0.0, size, 0.0, 1.0) for k, size in enumerate(sizes)]
    rows = latency_rows(cost, [bandwidth])
    best = best_per_bandwidth(rows)[f"{bandwidth:g}"]
    assert next(r["total_ms"] for r in rows if r["k"] == best) == min(r["total_ms"] for r in rows)
