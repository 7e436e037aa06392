"""``python -m harness bitinc`` / ``bitinc-apply``: files, JSON, decodability, and every bad input."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch

from harness.cli import main

pytestmark = pytest.mark.bitinc


def _state(scale: float = 1.0) -> dict[str, torch.Tensor]:
    generator = torch.Generator().manual_seed(5)
    return {"conv.weight": torch.randn(8, 4, 3, 3, generator=generator) * 0.1 * scale,
            "conv.bias": torch.randn(8, generator=generator).half(),
            "norm.weight": torch.randn(8, generator=generator).bfloat16(),
            "norm.num_batches_tracked": torch.tensor(42, dtype=torch.int64)}


@pytest.fixture(scope="module")
def model_file(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("model") / "model.pt"
    torch.save(_state(), path)
    return path


@pytest.fixture(scope="module")
def run(tmp_path_factory, model_file):
    out = tmp_path_factory.mktemp("out") / "d"
    code = main([
        "bitinc", str(model_file), "--low-bits", "4", "--high-bits", "12", "--out-dir", str(out),
        "--bandwidth", "10,50", "--json"])
    assert code == 0
    return out


def _report(capsys_output: str) -> dict:
    return json.loads(capsys_output.strip().splitlines()[-1])


def _load(path: Path) -> dict[str, torch.Tensor]:
    return torch.load(path, weights_only=True)


def test_files_json_and_exact_update(tmp_path, model_file, capsys):
    out = tmp_path / "d"
    assert main(["bitinc", str(model_file), "--low-bits", "4", "--high-bits", "12", "--out-dir", str(out),
                 "--bandwidth", "10,50", "--json"]) == 0
    report = _report(capsys.readouterr().out)
    assert sorted(p.name for p in out.iterdir()) == sorted(
        ["low.bin", "update.bin", "high.bin", "low.pt", "low_plus_update.pt", "high.pt"])
    for name, stream in report["streams"].items():
        assert stream["bytes"] == (out / f"{name}.bin").stat().st_size
        assert min(stream["encode_s"], stream["decode_s"], stream["reconstruct_s"]) >= 0
    assert report["streams"]["update"]["coder"] == "nnc-int:bits=12,base_bits=4"
    assert report["bit_exact"] is True and report["accuracy"] is None
    assert set(report["bandwidths_mbps"]) == {"10", "50"}
    steps = report["tensors"]["conv.weight"]
    assert steps["channels"] == 8 and steps["low_step"] == pytest.approx(steps["high_step"] * 2 ** 8)
    assert "norm.num_batches_tracked" not in report["tensors"]
    states = {name: _load(out / f"{name}.pt") for name in ("low", "low_plus_update", "high")}
    for state in states.values():
        assert list(state) == list(_state())
        assert state["norm.num_batches_tracked"].dtype == torch.int64 and int(state["norm.num_batches_tracked"]) == 42
        assert all(state[n].dtype == torch.float32 for n in state if n != "norm.num_batches_tracked")
    for name in states["high"]:
        assert torch.equal(states["low_plus_update"][name], states["high"][name])
    # 4 bits of a min-max grid: within half a 4-bit step of the original
    error = (states["low"]["conv.weight"] - _state()["conv.weight"]).abs().max().item()
    assert error <= steps["low_step"] / 2 * 1.0001


def test_streams_decode_with_the_decode_command(run, tmp_path, capsys):
    low = _load(run / "low.pt")
    for name in ("low", "update", "high"):
        assert main(["decode", "--in", str(run / f"{name}.bin"), "--out", str(tmp_path / f"{name}.npz")]) == 0
    with np.load(tmp_path / "low.npz") as decoded:
        for key, value in low.items():
            assert np.array_equal(decoded[key], value.numpy())
    with np.load(tmp_path / "update.npz") as decoded:
        assert decoded["__bitinc_base_sha256__"].shape == (32,)  # the update names its base


def test_apply_reaches_the_direct_model(run, tmp_path, capsys):
    out = tmp_path / "applied.pt"
    assert main(["bitinc-apply", "--base", str(run / "low.bin"), "--update", str(run / "update.bin"),
                 "--out", str(out)]) == 0
    applied, high = _load(out), _load(run / "high.pt")
    assert all(torch.equal(applied[n], high[n]) for n in high)


def test_apply_refuses_an_update_for_another_base(run, tmp_path, capsys):
    other_model, other = tmp_path / "other.pt", tmp_path / "other"
    torch.save(_state(scale=2.0), other_model)
    assert main(["bitinc", str(other_model), "--low-bits", "4", "--high-bits", "12", "--out-dir", str(other)]) == 0
    capsys.readouterr()
    out = tmp_path / "applied.pt"
    assert main(["bitinc-apply", "--base", str(run / "low.bin"), "--update", str(other / "update.bin"),
                 "--out", str(out)]) == 1
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "SHA-256" in err and "made from" in err
    assert not out.exists()


def _bad_model_files(tmp_path: Path) -> dict[str, Path]:
    files = {"ints": tmp_path / "ints.pt", "list": tmp_path / "list.pt", "text": tmp_path / "notes.pt",
             "nested": tmp_path / "checkpoint.pt"}
    torch.save({"n": torch.tensor([1, 2, 3])}, files["ints"])
    torch.save([torch.zeros(3)], files["list"])
    files["text"].write_text("not a model\n")
    torch.save({"state_dict": {"w": torch.zeros(3)}, "epoch": 3}, files["nested"])
    return files


@pytest.mark.parametrize("case, extra, message", [
    ("equal", ["--low-bits", "8", "--high-bits", "8"], "must be below"),
    ("above", ["--low-bits", "12", "--high-bits", "8"], "must be below"),
    ("zero", ["--low-bits", "0", "--high-bits", "8"], "1..31"),
    ("too-wide", ["--low-bits", "8", "--high-bits", "32"], "1..31"),
    ("update", ["--low-bits", "4", "--high-bits", "8", "--update", "lossy:qp=abc"], "lossy:qp=Q"),
    ("bandwidth", ["--low-bits", "4", "--high-bits", "8", "--bandwidth", "10,fast"], "Mbit/s"),
    ("ints", ["--low-bits", "4", "--high-bits", "8"], "no floating tensor"),
    ("list", ["--low-bits", "4", "--high-bits", "8"], "not a state_dict"),
    ("text", ["--low-bits", "4", "--high-bits", "8"], "weights_only=True"),
    ("nested", ["--low-bits", "4", "--high-bits", "8"], "'state_dict' entry"),
    ("missing", ["--low-bits", "4", "--high-bits", "8"], "neither a registered model"),
])
def test_bad_input_is_one_line_exit_1_and_writes_nothing(case, extra, message, tmp_path, model_file, capsys):
    files = _bad_model_files(tmp_path)
    model = str(files.get(case, model_file)) if case != "missing" else str(tmp_path / "nope.pt")
    out = tmp_path / "out"
    assert main(["bitinc", model, "--out-dir", str(out), *extra]) == 1
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and err.startswith("error: ") and message in err, err
    assert not out.exists()


def test_registered_model_reports_its_accuracy(tmp_path, capsys):
    assert main(["bitinc", "ssd_small", "--low-bits", "4", "--high-bits", "8", "--update", "lossy:qp=-30",
                 "--out-dir", str(tmp_path / "d"), "--json"]) == 0
    report = _report(capsys.readouterr().out)
    accuracy = report["accuracy"]
    assert accuracy["metric"] == "calc_map" and accuracy["data_set"] == "shapes50_selected"
    assert 0 <= accuracy["low"] <= accuracy["high"] <= 100  # 4 bits cost accuracy on the embedded SSD
    assert report["bit_exact"] is False
    assert report["streams"]["update"]["coder"] == "nncodec:qp=-30,dq=1,param_opt=1,row_skip=1,bitdepth=0"
