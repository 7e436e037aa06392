"""``python -m harness split|inspect|build-model`` on hand-built models: outputs, files, exit statuses."""
from __future__ import annotations

import json

import numpy as np
import onnx
import pytest

from harness.cli import main
from harness.split import run_split
from split_toy_graphs import input_reused_late, residual_block


@pytest.fixture
def residual_path(tmp_path):
    path = tmp_path / "toy.onnx"
    path.write_bytes(residual_block().SerializeToString())
    return path


def test_split_by_index_writes_both_parts_and_prints_the_cut(residual_path, tmp_path, capsys):
    out_dir = tmp_path / "parts"
    assert main(["split", str(residual_path), "--at", "2", "--out-dir", str(out_dir)]) == 0
    text = capsys.readouterr().out
    assert "cut before node 2 'add' (Add)" in text
    assert "  a  float32  1x4  16 bytes" in text and "  b  float32  1x4  16 bytes" in text
    assert "total: 2 tensor(s), 32 bytes" in text
    files = sorted(p.name for p in out_dir.iterdir())
    assert files == ["toy_Part_II_add.onnx", "toy_Part_I_add.onnx"]  # split_onnx.py naming, nothing else
    part1 = onnx.load(str(out_dir / "toy_Part_I_add.onnx"))
    part2 = onnx.load(str(out_dir / "toy_Part_II_add.onnx"))
    onnx.checker.check_model(part1)
    onnx.checker.check_model(part2)
    x = np.array([[1.0, -2.0, 3.0, 0.0]], np.float32)
    y = run_split(part1.SerializeToString(), part2.SerializeToString(), {"x": x})["y"]
    a = np.maximum(x, 0)
    assert np.allclose(y, 1 / (1 + np.exp(-(a * 0.5 + a))), rtol=1e-6)


def test_split_by_name_after_json(residual_path, tmp_path, capsys):
    assert main(["split", str(residual_path), "--node", "mul", "--after", "--out-dir", str(tmp_path), "--json"]) == 0
    row = json.loads(capsys.readouterr().out)
    assert (row["index"], row["where"], row["boundary"], row["node"]) == (1, "after", 2, "mul")
    assert [(t["name"], t["shape"], t["bytes"]) for t in row["cut"]] == [("a", [1, 4], 16), ("b", [1, 4], 16)]
    assert row["total_bytes"] == 32 and (row["part1_nodes"], row["part2_nodes"]) == (2, 2)


def test_inspect_table_and_json(residual_path, capsys):
    assert main(["inspect", str(residual_path), "--at", "1,3"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "4 nodes; cuts before each node"
    assert lines[2].split() == ["1", "Mul", "1", "16", "mul"]
    assert lines[4].split() == ["3", "Sigmoid", "1", "16", "sigmoid"]
    assert main(["inspect", str(residual_path), "--at", "2", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["node_count"] == 4 and report["splits"][0]["cut"][1]["name"] == "b"
    assert main(["inspect", str(residual_path), "--json"]) == 0
    listing = json.loads(capsys.readouterr().out)
    assert [n["op_type"] for n in listing["nodes"]] == ["Relu", "Mul", "Add", "Sigmoid"]


def test_build_model_rejects_unknown_name(tmp_path, capsys):
    assert main(["build-model", "no_such_model", "--out", str(tmp_path / "m.onnx")]) == 1
    assert "unknown model 'no_such_model'" in capsys.readouterr().err
    assert not (tmp_path / "m.onnx").exists()


def _bad_file(tmp_path, kind):
    path = tmp_path / f"{kind}.onnx"
    if kind == "not_onnx":
        path.write_bytes(b"\x00\x01garbage")
    else:
        model = residual_block()
        model.graph.node[1].input[1] = "undefined"
        path.write_bytes(model.SerializeToString())
    return path


@pytest.mark.parametrize("argv, message", [
    (["inspect", "{toy}", "--at", "4"], "node index 4 is out of range: this model has 4 nodes"),
    (["split", "{toy}", "--at", "9", "--out-dir", "{out}"], "node index 9 is out of range"),
    (["split", "{toy}", "--node", "nope", "--out-dir", "{out}"], "no node named 'nope'"),
    (["split", "{toy}", "--at", "1", "--before", "--after", "--out-dir", "{out}"], "not both"),
    (["inspect", "{not_onnx}"], "is not a readable ONNX model"),
    (["split", "{broken}", "--at", "1", "--out-dir", "{out}"], "fails onnx.checker"),
    (["split", "{late}", "--at", "1", "--out-dir", "{out}"], "leaves part 2 reading the raw model input(s) x"),
    (["inspect", "{tmp}/absent.onnx"], "no such ONNX file"),
])
def test_bad_input_is_one_line_and_exit_1(residual_path, tmp_path, capsys, argv, message):
    late = tmp_path / "late.onnx"
    late.write_bytes(input_reused_late().SerializeToString())
    paths = {"toy": residual_path, "out": tmp_path / "out", "late": late, "tmp": tmp_path,
             "not_onnx": _bad_file(tmp_path, "not_onnx"), "broken": _bad_file(tmp_path, "broken")}
    assert main([a.format(**paths) for a in argv]) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: ") and message in err and err.count("\n") == 1
    assert not (tmp_path / "out").exists()  # nothing written on failure


def test_pass_inputs_flag_allows_the_raw_input_cut(tmp_path, capsys):
    late = tmp_path / "late.onnx"
    late.write_bytes(input_reused_late().SerializeToString())
    assert main(["split", str(late), "--at", "1", "--pass-inputs", "--out-dir", str(tmp_path), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["raw_inputs"] == ["x"]
