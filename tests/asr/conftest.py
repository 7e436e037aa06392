"""Fixtures of the ASR scenario tests: the matrix, scenarios per model, the anchor evaluated once per worker."""
from __future__ import annotations

from pathlib import Path
from typing import Callable

import pytest
import torch

from harness.asr import embedded, pretrained
from harness.scenarios import SCENARIOS
from harness.scenarios.asr import AsrOptions, load_matrix
from harness.scenarios.evaluation import AnchorResult, evaluate_anchor

_ANCHORS: dict[tuple[str, str], AnchorResult] = {}


@pytest.fixture(autouse=True, scope="session")
def _single_thread() -> None:
    # 2 shared CPU cores: keep torch single-threaded (the seed evaluates one utterance at a time anyway).
    torch.set_num_threads(1)


@pytest.fixture(scope="session")
def asr_matrix() -> dict:
    return load_matrix()


def _asr_options(model_name: str, data_dir: Path | None, device: str) -> AsrOptions:
    entry = load_matrix()["models"][model_name]
    if entry["source"] == "embedded":
        reason = embedded.missing_asset_reason()
        if reason:
            pytest.skip(reason)
        return AsrOptions(model_name, "embedded", None, device)
    reason = pretrained.missing_weights_reason(entry["bundle"], data_dir)
    if reason:
        pytest.skip(reason)
    if data_dir is None or not any((data_dir / d / "test-clean").is_dir() for d in ("LibriSpeech", ".")):
        pytest.skip(f"{model_name}: LibriSpeech test-clean not found: pass --data-dir DIR with "
                    "DIR/LibriSpeech/test-clean (https://www.openslr.org/12)")
    return AsrOptions(model_name, "librispeech", data_dir, device)


@pytest.fixture
def asr_anchor(data_dir: Path | None) -> Callable[[str, str], tuple[AsrOptions, AnchorResult]]:
    """``asr_anchor(model_name, device)`` -> (options, anchor): skips with what to provide when the model or data
    set is absent; the anchor's WER is measured once per (model, device) in each worker."""

    def get(model_name: str, device: str) -> tuple[AsrOptions, AnchorResult]:
        opts = _asr_options(model_name, data_dir, device)
        key = (model_name, device)
        if key not in _ANCHORS:
            _ANCHORS[key] = evaluate_anchor(SCENARIOS.get("asr")(opts))
        return opts, _ANCHORS[key]

    return get
