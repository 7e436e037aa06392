"""Shared fixtures of the coder tests: the deterministic feature map and a per-session cache of its coding."""
from __future__ import annotations

import json
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
