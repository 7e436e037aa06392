"""Shared fixtures of the coder tests: the deterministic feature map and a per-session cache of its coding."""
from __future__ import annotations

import json
import math
import struct
import subprocess
import sys
from pathlib import Path
from typing import Callable

import numpy as np
import pytest

from harness.coders import decode_any, make_coder

from harness.datasets.relu_features import relu_features


def matrix_rates(coder_name: str) -> tuple:
    """The rate points of one coder family in matrix/coders.yaml (the one source of QPs and bit depths):
    seed 000's NNCodec QP list, seed 002's Q-layer bit depths."""
    from harness.matrix import scenario_matrix
    from harness.scenarios.coders import CodersScenario

    coders = [make_coder(spec) for spec in scenario_matrix(CodersScenario)["coders"]]
    return tuple(dict.fromkeys(c.rate for c in coders if c.name == coder_name and c.rate is not None))


SEED_QPS = matrix_rates("nncodec")
QLAYER_BITS = matrix_rates("qlayer")


@pytest.fixture(scope="session", autouse=True)
def _single_threaded() -> None:
    # the machine is shared: keep torch (imported by nncodec) on one thread
    import torch

    torch.set_num_threads(1)


@pytest.fixture(scope="session")
def feature_map() -> np.ndarray:
    return relu_features()


@pytest.fixture(scope="session")
def coded_feature(feature_map: np.ndarray) -> Callable[[str], dict]:
    """spec -> {"spec", "rec_size", "mse", "bitstream", "decoded"} for the 1x256x75x75 feature map, coded once."""
    cache: dict[str, dict] = {}

    def code(spec: str) -> dict:
        if spec not in cache:
            coder = make_coder(spec)
            data = coder.encode({"features": feature_map})
            decoded = decode_any(data)["features"]
            mse = float(np.mean((decoded.astype(np.float64) - feature_map.astype(np.float64)) ** 2))
            cache[spec] = {"spec": coder.spec, "rec_size": len(data), "mse": mse, "bitstream": data,
                           "decoded": decoded}
        return cache[spec]

    return code


PROBE = Path(__file__).with_name("corruption_probe.py")


def run_probe(tmp_path: Path, data: bytes, mode: str) -> dict:
    """Feed damaged variants of ``data`` to the decoders in a child interpreter (corruption_probe.py) and return
    its JSON tally; a child that dies (segfault, abort in a native decoder) fails the test instead of pytest."""
    path = tmp_path / f"{mode}.bin"
    path.write_bytes(data)
    done = subprocess.run([sys.executable, str(PROBE), str(path), mode], capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, (f"child interpreter died (exit {done.returncode}) decoding damaged "
                                  f"bitstreams ({mode}):\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


# --- the picture-codec coders (hevc, j2k): a small map, so that the default run stays short ------------------------
PICTURE_SHAPE = (1, 64, 38, 38)  # tiles into a 304x304 picture


@pytest.fixture(scope="module")
def features() -> np.ndarray:
    return relu_features(PICTURE_SHAPE)


@pytest.fixture(scope="module")
def coded(features: np.ndarray) -> Callable[[str], tuple[bytes, np.ndarray]]:
    """spec -> (container bytes, decoded map) of ``features``, coded once per module."""
    cache: dict[str, tuple[bytes, np.ndarray]] = {}

    def code(spec: str) -> tuple[bytes, np.ndarray]:
        if spec not in cache:
            data = make_coder(spec).encode({"f": features})
            cache[spec] = (data, decode_any(data)["f"])
        return cache[spec]

    return code


def mse(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2))


def picture_stream(data: bytes) -> bytes:
    """The codec's own stream inside a one-tensor container: the payload after the tiling header."""
    from harness.coders.container import unpack
    from harness.coders.tiling import HEADER

    (entry,) = unpack(data)[1]
    return entry.payload[HEADER.size:]


def small_tensors() -> dict[str, np.ndarray]:
    """A float map (an 8 x 10 tiled picture) and an exact int64 tensor: small inputs for corruption probes."""
    return {"feat": relu_features((1, 3, 4, 5)), "idx": np.arange(3, dtype=np.int64)}


def with_payload(data: bytes, damage: Callable[[bytes], bytes]) -> bytes:
    """The container with its float tensor's payload damaged and the checksum recomputed (a crafted input)."""
    from harness.coders.container import TensorEntry, pack, unpack

    spec, entries = unpack(data)
    return pack(spec, [TensorEntry(e.name, e.dtype, e.shape, damage(e.payload) if e.dtype == "float32" else e.payload)
                       for e in entries])


# damage to the tiling header (min, max, bits, tile rows, cols) of a 10-bit picture coder's payload
TILED_HEADER_DAMAGE = [
    lambda p: p[:8] + b"\x08" + p[9:],                                       # 8 bits in a 10-bit coder
    lambda p: p[:9] + struct.pack("<H", 3) + p[11:],                         # wrong tile grid
    lambda p: struct.pack("<ff", 5.0, 1.0) + p[8:],                          # min > max
    lambda p: struct.pack("<ff", math.nan, 1.0) + p[8:],                     # NaN range
    lambda p: p[:4],                                                         # shorter than the header
]


def assert_crafted_payloads_fail(tmp_path: Path, data: bytes, damages: list) -> None:
    """Every crafted payload (behind a valid checksum) raises BitstreamError in a child interpreter."""
    foreign = "\n".join(with_payload(data, damage).hex() for damage in damages)
    tally = run_probe(tmp_path, foreign.encode(), "foreign")
    assert tally["other"] == [] and tally["bitstream_error"] == len(damages), tally


def assert_stream_flips_never_crash(tmp_path: Path, data: bytes, header_size: int, count: int = 150) -> None:
    """Random flips inside the codec's stream (behind a valid checksum) may decode to a wrong picture, as the
    native decoders conceal errors, but end in a result or a BitstreamError, never a crash or another error."""
    rng = np.random.default_rng(3)

    def flip(payload: bytes) -> bytes:
        damaged = bytearray(payload)
        for _ in range(int(rng.integers(1, 6))):
            position = int(rng.integers(header_size, len(damaged)))
            damaged[position] ^= int(rng.integers(1, 256))
        return bytes(damaged)

    foreign = "\n".join(with_payload(data, flip).hex() for _ in range(count))
    tally = run_probe(tmp_path, foreign.encode(), "foreign")
    assert tally["other"] == [] and tally["cases"] == count, tally
