"""Shared fixtures of the coder tests: the deterministic feature map and a per-session cache of its coding."""
from __future__ import annotations

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
