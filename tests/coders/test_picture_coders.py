"""What the coders of seed 002's picture pipeline (Q-layer, channel tiling, one picture of a picture codec: hevc,
j2k) share: the payload header and bytes that repeat across runs, processes and codec thread settings."""
from __future__ import annotations

import hashlib
import os
import struct
import subprocess
import sys

import pytest

import numpy as np

from harness.coders import decode_any, make_coder
from harness.coders.container import unpack
from harness.coders.qlayer import dequantise, quantise

from .conftest import PICTURE_SHAPE

pytestmark = pytest.mark.coders

HEADER = struct.Struct("<ffBHH")  # min, max, bits, tile rows, tile cols (as documented in harness.coders.tiling)
SPECS = ["hevc:qp=27,bits=10", "j2k:ratio=16,bits=10"]


@pytest.mark.parametrize("coder, bits", [("hevc", 8), ("hevc", 10), ("hevc", 12),
                                         ("j2k", 8), ("j2k", 10), ("j2k", 12), ("j2k", 16)])
def test_lossless_is_exact_on_the_quantised_samples(coder, bits, features, coded):
    _, decoded = coded(f"{coder}:lossless=1,bits={bits}")
    lo, hi, q = quantise(features, bits)
    assert np.array_equal(decoded, dequantise(q, lo, hi, bits))
    assert np.array_equal(decoded, decode_any(make_coder(f"qlayer:bits={bits}").encode({"f": features}))["f"])


@pytest.mark.parametrize("spec", SPECS)
def test_payload_header_carries_range_bit_depth_and_tile_grid(spec, features, coded):
    data, _ = coded(spec)
    (entry,) = unpack(data)[1]
    lo, hi, bits, rows, cols = HEADER.unpack_from(entry.payload)
    assert (lo, hi) == (float(features.min()), float(features.max()))
    assert (bits, rows, cols) == (10, 8, 8)  # 64 channels -> 8 x 8 tiles of 38 x 38


@pytest.mark.parametrize("spec", SPECS)
def test_encoding_is_deterministic_across_runs_processes_and_threads(spec, features):
    digests = {hashlib.sha256(make_coder(spec).encode({"f": features})).hexdigest() for _ in range(2)}
    child = ("import hashlib; from harness.datasets.relu_features import relu_features; "
             "from harness.coders import make_coder; "
             f"print(hashlib.sha256(make_coder({spec!r}).encode({{'f': relu_features({PICTURE_SHAPE!r})}})).hexdigest())")
    # side by side, as two xdist workers would be; OpenJPEG's thread pool size must not change the bytes either
    children = [subprocess.Popen([sys.executable, "-c", child], stdout=subprocess.PIPE, text=True,
                                 env={**os.environ, "OPJ_NUM_THREADS": threads}) for threads in ("1", "4")]
    for process in children:
        out, _ = process.communicate(timeout=120)
        assert process.returncode == 0
        digests.add(out.strip())
    assert len(digests) == 1, digests
