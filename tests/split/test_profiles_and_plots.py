"""Latency profiles (harness.split.profiles), the peak-memory reading, and the sweep plots."""
from __future__ import annotations

import numpy as np
import pytest

from harness.memory import peak_rss_since_reset, reset_peak_rss
from harness.split.profiles import ProfileError, load_profile, load_profile_file, profile_session


def test_default_profiles_are_the_seed_pair():
    setup = load_profile_file()
    device, network = setup["profiles"]["device"], setup["profiles"]["network"]
    assert (device.providers, device.threads, device.slowdown) == (("cpu",), 1, 1.0)
    assert network.providers[0] == "cuda" and network.threads == 0
    assert network.device in ("cuda", "cpu")
    assert setup["delivery"]["uplink_mbps"] == [5, 10, 25, 50, 100, 200]
    with pytest.raises(ProfileError, match="unknown latency profile 'phone'; known: device, network"):
        load_profile("phone")


@pytest.mark.parametrize("text, reason", [
    ("profiles: {d: {providers: [tpu]}}", "providers must be among"),
    ("profiles: {d: {slowdown: 0}}", "slowdown must be a number > 0"),
    ("profiles: {d: {colour: red}}", "unknown key"),
    ("delivery: {}", "'profiles' mapping"),
])
def test_bad_profile_files(tmp_path, text, reason):
    path = tmp_path / "p.yaml"
    path.write_text(text)
    with pytest.raises(ProfileError, match=reason):
        load_profile_file(path)


def test_peak_memory_sees_a_large_allocation():
    baseline = reset_peak_rss()
    if baseline is None:
        pytest.skip("/proc/self/clear_refs cannot be written here: peak memory is not readable")
    block = np.ones(64 * 2**20 // 8)  # 64 MiB touched
    peak = peak_rss_since_reset(baseline)
    del block
    assert peak is not None and peak >= 60 * 2**20


def test_profile_session_uses_its_threads(toy_path):
    session = profile_session(str(toy_path), load_profile("device"))
    assert session.get_session_options().intra_op_num_threads == 1


def test_plots_write_images(tmp_path):
    from harness.report.sweep_plots import plot_intermediate_bytes_vs_k, plot_latency_vs_k, summary_from_rows
    from harness.split.delivery import ConfigCost, sweep_summary

    configs = [{"k": k, "intermediate_bytes": b, "coded_bytes": b // 2, "part1_ms": 10.0 * k, "part2_ms": 30 - 10.0 * k}
               for k, b in enumerate([3000, 8000, 500, 100])]
    costs = [ConfigCost(c["k"], c["part1_ms"], 0.0, c["coded_bytes"], 0.0, c["part2_ms"]) for c in configs]
    summary = sweep_summary(3, configs, costs, [5.0, 50.0, 500.0, 5000.0])
    for path in (plot_latency_vs_k(summary, tmp_path / "lat.png"),
                 plot_intermediate_bytes_vs_k(summary, tmp_path / "bytes.png")):
        assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    rows = [{"split": c["k"], **c, "part1_model_bytes": 0, "part2_model_bytes": 0, "max_abs_diff": 0.0,
             "lossless": True, "encode_ms": 0.0, "decode_ms": 0.0} for c in configs]
    rows.append({"split": "n10"})  # node-index cuts are not layer configurations: left out
    assert summary_from_rows(rows, [5.0, 50.0, 500.0, 5000.0])["best"] == summary["best"]
