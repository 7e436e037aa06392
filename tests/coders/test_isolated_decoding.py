"""A bitstream from outside the run is decoded in a worker process: a crash there is a BitstreamError."""
from __future__ import annotations

import os

import numpy as np
import pytest

from harness.cli import main
from harness.coders import BitstreamError, decode_any, make_coder
from harness.coders.isolation import decode_untrusted, run_isolated


def crash(_bitstream: bytes) -> None:
    """What a native decoder that segfaults does to its process (the worker imports this module by name)."""
    os.abort()


def test_a_crash_of_the_worker_is_a_bitstream_error_and_the_next_decode_works() -> None:
    with pytest.raises(BitstreamError, match="the decoder process died on this bitstream"):
        run_isolated(os.abort)  # what a segfaulting native decoder does to its process
    data = make_coder("nncodec:qp=-26").encode({"x": np.linspace(0, 1, 500, dtype=np.float32).reshape(1, 5, 10, 10)})
    isolated, in_process = decode_untrusted(data), decode_any(data)
    assert isolated.keys() == in_process.keys() and np.array_equal(isolated["x"], in_process["x"])


def test_errors_raised_in_the_worker_come_back_as_raised() -> None:
    data = bytearray(make_coder("raw").encode({"x": np.ones(4, np.float32)}))
    data[-1] ^= 0xFF
    with pytest.raises(BitstreamError, match="checksum|CRC"):
        decode_untrusted(bytes(data))


def test_the_decode_command_survives_a_crashing_decoder(tmp_path, monkeypatch, capsys) -> None:
    import harness.coders.isolation as isolation

    bitstream = tmp_path / "x.bin"
    bitstream.write_bytes(make_coder("raw").encode({"x": np.ones(4, np.float32)}))
    monkeypatch.setattr(isolation, "decode_any", crash)  # the worker runs this in place of the decoder
    assert main(["decode", "--in", str(bitstream), "--out", str(tmp_path / "y.npz")]) == 1
    assert "the decoder process died" in capsys.readouterr().err
    assert not (tmp_path / "y.npz").exists()
