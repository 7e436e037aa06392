"""pytest plumbing shared by every scenario: options, markers, device selection, references and results.

Results: tests call the ``record_result`` fixture with one dict per cell. Under pytest-xdist each worker
ships its rows to the controller (``workeroutput``), which alone writes ``results.csv``/``results.json``, so
there is one results file and no shared mutable state between workers.
"""
from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any, Callable

import pytest

from harness.references import compare_metrics, get_reference, load_tolerances, set_reference
from harness.results import write_results

pytest_plugins = ["harness.pytest_summary"]

MARKERS = {
    "ssd": "ssd_resnet split-inference scenario (embedded detector by default)",
    "retinanet": "RetinaNet ResNet-50 FPN split-inference scenario",
    "asr": "ASR model-compression scenario (wav2vec2/HuBERT, embedded CTC model by default)",
    "coders": "intermediate-data coder conformance",
    "cuda": "needs a working CUDAExecutionProvider; skipped with a reason otherwise",
    "slow": "long-running test",
    "benchmark": "pytest-benchmark speed measurement, excluded from the default run (use -m benchmark)",
}


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("harness", "FS_AI4Media conformance suite")
    group.addoption("--data-dir", default=os.environ.get("HARNESS_DATA_DIR"), type=Path,
                    help="directory with real assets (models, COCO, LibriSpeech, SFU-HW-Objects); "
                         "when absent the embedded defaults are used")
    group.addoption("--device", default="cpu", choices=["cpu", "cuda", "all"],
                    help="execution device(s) of the inference runs (default: cpu)")
    group.addoption("--results-dir", default=Path("results"), type=Path,
                    help="where results.csv and results.json are written (default: ./results)")
    group.addoption("--update-references", action="store_true",
                    help="write measured metrics into references/expected_metrics.json instead of comparing")


def pytest_configure(config: pytest.Config) -> None:
    for name, help_text in MARKERS.items():
        config.addinivalue_line("markers", f"{name}: {help_text}")
    config._harness_rows = []  # type: ignore[attr-defined]


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    # Benchmarks stay out of the default run; ask for them with -m benchmark (or --benchmark-only).
    markexpr = config.getoption("-m") or ""
    if "benchmark" in markexpr or config.getoption("--benchmark-only", default=False):
        return
    skip = pytest.mark.skip(reason="benchmark: run with -m benchmark")
    for item in items:
        if "benchmark" in item.keywords:
            item.add_marker(skip)


def devices_for(config: pytest.Config) -> list[str]:
    choice = config.getoption("--device")
    return ["cpu", "cuda"] if choice == "all" else [choice]


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    # Any test asking for ``device`` runs once per selected device; cuda cases carry the cuda marker.
    if "device" in metafunc.fixturenames:
        params = [pytest.param(d, id=d, marks=[pytest.mark.cuda] if d == "cuda" else []) for d in devices_for(metafunc.config)]
        metafunc.parametrize("device", params)


@pytest.fixture(autouse=True)
def _skip_cuda_without_gpu(request: pytest.FixtureRequest) -> None:
    if request.node.get_closest_marker("cuda"):
        from harness.runtime import cuda_unavailable_reason

        reason = cuda_unavailable_reason()
        if reason:
            pytest.skip(f"CUDA: {reason}")


@pytest.fixture(scope="session")
def data_dir(pytestconfig: pytest.Config) -> Path | None:
    path = pytestconfig.getoption("--data-dir")
    if path is not None and not Path(path).is_dir():
        raise pytest.UsageError(f"--data-dir {path} is not a directory")
    return Path(path) if path else None


@pytest.fixture(scope="session")
def results_dir(pytestconfig: pytest.Config) -> Path:
    return Path(pytestconfig.getoption("--results-dir"))


@pytest.fixture(scope="session")
def tolerances() -> dict[str, Any]:
    return load_tolerances()


@pytest.fixture
def record_result(request: pytest.FixtureRequest) -> Callable[[dict[str, Any]], None]:
    """Add one results row (a dict of columns) for this test."""

    def record(row: dict[str, Any]) -> None:
        # rows of checks that involve no coder (structure, anchors) still name one, so every row is a cell
        request.config._harness_rows.append({"test_id": request.node.nodeid, "coder_name": "none", **row})  # type: ignore[attr-defined]

    return record


@pytest.fixture
def check_reference(request: pytest.FixtureRequest, tolerances: dict[str, Any]) -> Callable[[list[str], dict[str, Any]], None]:
    """Compare measured metrics with the reference at a key path, or store them with --update-references."""

    def check(keys: list[str], measured: dict[str, Any]) -> None:
        if request.config.getoption("--update-references"):
            set_reference(keys, measured)
            return
        expected = get_reference(keys)
        if expected is None:
            pytest.fail(f"no reference at {'/'.join(keys)} in references/expected_metrics.json; "
                        "run with --update-references to record one")
        breaches = compare_metrics(measured, expected, tolerances)
        assert not breaches, f"{'/'.join(keys)} outside tolerance:\n  " + "\n  ".join(breaches)

    return check


def _is_xdist_worker(config: pytest.Config) -> bool:
    return hasattr(config, "workerinput")


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    config = session.config
    rows = config._harness_rows  # type: ignore[attr-defined]
    if _is_xdist_worker(config):
        config.workeroutput["harness_rows"] = json.dumps(rows, default=str)  # type: ignore[attr-defined]
        return
    if rows:
        from harness.environment import describe_environment

        write_results(rows, Path(config.getoption("--results-dir")), describe_environment())


def pytest_testnodedown(node: Any, error: Any) -> None:
    # Controller side of xdist: gather the rows each worker shipped.
    payload = getattr(node, "workeroutput", {}).get("harness_rows")
    if payload:
        node.config._harness_rows.extend(json.loads(payload))
