"""``python -m harness sweep-splits``: the layout of its JSON output, and bad input (exit 1, one line)."""
from __future__ import annotations

import json

import pytest

from harness.cli import main

CONFIG_KEYS = {"k", "cut_tensors", "intermediate_bytes", "coded_bytes", "part1_model_bytes", "part2_model_bytes",
               "part1_ms", "part2_ms", "max_abs_diff", "lossless"}


def run(capsys, *argv):
    code = main(["sweep-splits", *map(str, argv)])
    out, err = capsys.readouterr()
    return code, out, err


def test_json_layout_and_values(toy_path, capsys):
    code, out, _ = run(capsys, toy_path, "--json", "--repeat", "1", "--bandwidth", "10,50", "--rtt-ms", "5",
                       "--network-profile", "network_cpu")
    assert code == 0
    data = json.loads(out)
    assert list(data) == ["layers", "configs", "bandwidths_mbps", "latency", "best", "inputs", "chosen",
                          "device_model"]
    assert data["inputs"].startswith("seeded inputs (seed 0): ") and data["chosen"] == []
    assert data["layers"] == 4 and [c["k"] for c in data["configs"]] == [0, 1, 2, 3, 4]
    assert all(set(c) == CONFIG_KEYS for c in data["configs"])
    k2 = data["configs"][2]
    # cut before conv_c: 'a' and the skip sum 's', both 1x4x8x8 float32
    assert k2["cut_tensors"] == [{"name": "a", "shape": [1, 4, 8, 8], "dtype": "float32", "bytes": 1024},
                                 {"name": "s", "shape": [1, 4, 8, 8], "dtype": "float32", "bytes": 1024}]
    assert k2["intermediate_bytes"] == 2048 and k2["coded_bytes"] > 2048 and k2["lossless"]
    assert data["configs"][0]["part1_model_bytes"] == 0 and data["configs"][4]["part2_model_bytes"] == 0
    assert data["bandwidths_mbps"] == [10.0, 50.0] and len(data["latency"]) == 10
    row = next(r for r in data["latency"] if r["k"] == 2 and r["bandwidth_mbps"] == 10.0)
    assert row["transmission_ms"] == pytest.approx(k2["coded_bytes"] * 8 / 1e4 + 5)
    assert set(data["best"]) == {"10", "50"}


def test_table_prints_profiles_and_anchors(toy_path, capsys):
    code, out, _ = run(capsys, toy_path, "--repeat", "0", "--coder", "fp16", "--network-profile", "network_cpu")
    assert code == 0
    assert "slowdown x1" in out and "all_on_device (k=4)" in out and "coder fp16" in out


@pytest.mark.parametrize("argv, reason", [
    (["--bandwidth", "0"], None),  # argparse: exit 2 with usage
    (["--coder", "nosuchcoder"], "nosuchcoder"),
    (["--network-profile", "phone"], "unknown latency profile 'phone'"),
    (["--rtt-ms", "-1"], "round-trip"),
])
def test_bad_input(toy_path, capsys, argv, reason):
    if reason is None:
        with pytest.raises(SystemExit) as stop:
            main(["sweep-splits", str(toy_path), *argv])
        assert stop.value.code != 0
        assert "must be > 0" in capsys.readouterr().err
        return
    code, out, err = run(capsys, toy_path, *argv)
    assert code == 1 and out == "" and reason in err and len(err.strip().splitlines()) == 1


def test_model_without_layer(no_layer_path, capsys):
    code, _, err = run(capsys, no_layer_path)
    assert code == 1 and "no Conv, ConvTranspose, Gemm, MatMul node" in err


def test_bad_profiles_file(toy_path, tmp_path, capsys):
    bad = tmp_path / "p.yaml"
    bad.write_text("profiles: {device: {threads: -1}}\n")
    code, _, err = run(capsys, toy_path, "--profiles", bad)
    assert code == 1 and "threads must be an integer >= 0" in err
