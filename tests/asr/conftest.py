"""Fixtures of the ASR scenario tests."""
from __future__ import annotations

import pytest
import torch


@pytest.fixture(autouse=True, scope="session")
def _single_thread() -> None:
    # 2 shared CPU cores: keep torch single-threaded (the seed evaluates one utterance at a time anyway).
    torch.set_num_threads(1)
