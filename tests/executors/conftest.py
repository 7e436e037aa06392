"""A local multi-node Ray cluster (``ray.cluster_utils.Cluster``) shared by the executor tests.

The head holds no CPU, so every task runs on a worker node of one CPU (two to start with), as on a cluster of
single-core machines. Node processes inherit this process's environment; PYTHONPATH gets this folder so the
worker processes import ``toy_scenario`` as the driver does (a real cluster installs the suite on each node).
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Iterator

import pytest

HERE = Path(__file__).resolve().parent


@pytest.fixture(scope="session")
def ray_cluster() -> Iterator[object]:
    import ray  # a declared dependency (pyproject.toml): absent, the run fails here
    from ray.cluster_utils import Cluster

    old_path = os.environ.get("PYTHONPATH")
    os.environ["PYTHONPATH"] = os.pathsep.join(p for p in (str(HERE), old_path) if p)
    os.environ.setdefault("RAY_DEDUP_LOGS", "0")
    cluster = Cluster(initialize_head=True, head_node_args={"num_cpus": 0, "include_dashboard": False})
    for _ in range(2):
        cluster.add_node(num_cpus=1)
    cluster.wait_for_nodes()
    ray.init(address=cluster.address, logging_level="WARNING")
    try:
        yield cluster
    finally:
        ray.shutdown()
        cluster.shutdown()
        if old_path is None:
            os.environ.pop("PYTHONPATH", None)
        else:
            os.environ["PYTHONPATH"] = old_path
