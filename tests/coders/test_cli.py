"""``python -m harness encode`` / ``decode`` as a user runs them (child processes)."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from harness.coders import decode_any

pytestmark = pytest.mark.coders


def harness(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "harness", *args], capture_output=True, text=True, cwd=cwd,
                          timeout=300)


@pytest.fixture
def npz(tmp_path: Path) -> Path:
    rng = np.random.default_rng(3)
    path = tmp_path / "x.npz"
    np.savez(path, features=np.maximum(rng.standard_normal((1, 8, 6, 6)), 0).astype(np.float32),
             shape=np.array([1, 8, 6, 6], dtype=np.int64))
    return path


@pytest.mark.parametrize("spec, exact", [("raw", True), ("qlayer:bits=8,lossless=png", False),
                                         ("nncodec:qp=-26", False)])
def test_encode_decode_round_trip_via_npz(spec, exact, npz, tmp_path):
    encoded = harness("encode", "--coder", spec, "--in", str(npz), "--out", "x.bin", "--json", cwd=tmp_path)
    assert encoded.returncode == 0, encoded.stderr
    summary = json.loads(encoded.stdout)
    original = dict(np.load(npz))
    bitstream = (tmp_path / "x.bin").read_bytes()
    assert summary["container_bytes"] == len(bitstream)
    assert summary["tensor_bytes"] == sum(a.nbytes for a in original.values())
    assert summary["ratio"] == pytest.approx(len(bitstream) / summary["tensor_bytes"])

    decoded_run = harness("decode", "--in", "x.bin", "--out", "y.npz", cwd=tmp_path)
    assert decoded_run.returncode == 0, decoded_run.stderr
    line = decoded_run.stdout.strip()
    assert f"container {len(bitstream)} bytes" in line and f"tensors {summary['tensor_bytes']} bytes" in line
    decoded = dict(np.load(tmp_path / "y.npz"))
    assert sorted(decoded) == sorted(original)
    assert np.array_equal(decoded["shape"], original["shape"])
    in_process = decode_any(bitstream)["features"]
    assert np.array_equal(decoded["features"], in_process)  # CLI and library agree
    if exact:
        assert np.array_equal(decoded["features"], original["features"])
    assert sorted(p.name for p in tmp_path.iterdir()) == ["x.bin", "x.npz", "y.npz"]  # no temporaries left


def test_encode_prints_sizes_in_plain_text(npz, tmp_path):
    done = harness("encode", "--coder", "fp16", "--in", str(npz), "--out", "x.bin", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    size = (tmp_path / "x.bin").stat().st_size
    assert done.stdout.strip().startswith("fp16: tensors 1184 bytes, container ")
    assert f"container {size} bytes" in done.stdout


def _bad_inputs(tmp_path: Path, npz: Path) -> dict[str, tuple[list[str], str]]:
    (tmp_path / "notes.txt").write_text("not numpy")
    np.save(tmp_path / "single.npy", np.ones(3, np.float32))
    np.savez(tmp_path / "objects.npz", a=np.array([{}], dtype=object))
    np.savez(tmp_path / "nan.npz", a=np.array([np.nan], np.float32))
    good = harness("encode", "--coder", "raw", "--in", str(npz), "--out", "good.bin", cwd=tmp_path)
    assert good.returncode == 0
    data = (tmp_path / "good.bin").read_bytes()
    (tmp_path / "corrupt.bin").write_bytes(data[:-10])
    return {
        "missing file": (["encode", "--coder", "raw", "--in", "nope.npz", "--out", "o.bin"], "nope.npz: no such file"),
        "not an npz": (["encode", "--coder", "raw", "--in", "notes.txt", "--out", "o.bin"], "not an .npz archive"),
        "a .npy": (["encode", "--coder", "raw", "--in", "single.npy", "--out", "o.bin"], "single .npy array"),
        "object npz": (["encode", "--coder", "raw", "--in", "objects.npz", "--out", "o.bin"], "not a readable .npz"),
        "nan tensor": (["encode", "--coder", "raw", "--in", "nan.npz", "--out", "o.bin"], "tensor 'a' contains 1 NaN"),
        "unknown coder": (["encode", "--coder", "zstd", "--in", str(npz), "--out", "o.bin"], "unknown coder 'zstd'"),
        "bad parameter": (["encode", "--coder", "qlayer:bits=40", "--in", str(npz), "--out", "o.bin"],
                          "bad value '40' for bits"),
        "corrupt bin": (["decode", "--in", "corrupt.bin", "--out", "o.npz"], "checksum mismatch"),
        "npz as bin": (["decode", "--in", str(npz), "--out", "o.npz"], "not an AI4Media tensor container"),
        "missing bin": (["decode", "--in", "nope.bin", "--out", "o.npz"], "nope.bin: no such file"),
    }


def test_bad_input_exits_1_with_a_one_line_reason_and_writes_nothing(npz, tmp_path):
    for label, (args, reason) in _bad_inputs(tmp_path, npz).items():
        done = harness(*args, cwd=tmp_path)
        assert done.returncode == 1, (label, done.stdout, done.stderr)
        lines = done.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("error: ") and reason in lines[0], (label, done.stderr)
        assert "Traceback" not in done.stderr
        assert not (tmp_path / "o.bin").exists() and not (tmp_path / "o.npz").exists(), label
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]
