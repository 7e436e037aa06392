"""The interface of seed 001 Fig. 2.1.2.4-1 for ONE model (:class:`SeedScenario`): the model a coder is applied
to and how the coded model is scored; what a member's own evaluation script implements.

It sits with the models, below the scenarios, so that a model package (harness.asr) can
implement it and other packages (harness.bitinc) can use that implementation without importing the scenarios
that drive it (harness.scenarios.model_coding builds one per model of its matrix).
"""
from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any


class SeedScenario(ABC):
    """get_model / download_data_and_models / get_perf of one model, as the seed names them."""

    metric_name: str = "MetricOfScenario"

    @abstractmethod
    def get_model(self, pre_trained: bool = True) -> Any:
        """The anchor model (pre-trained) or the same architecture un-initialised."""

    @abstractmethod
    def download_data_and_models(self) -> None:
        """Make sure models and data are available. This suite never downloads: it raises an error that says
        which file to provide and where."""

    @abstractmethod
    def get_perf(self, model: Any, partition: str = "test",
                 enforce_higher_is_better: bool = False) -> tuple[float, float]:
        """(performance, inference plus measurement time in seconds) on the "test" or "valid" partition."""

    def missing_reason(self) -> str | None:
        """Why the model or its data cannot be had here (None when they can)."""
        return None
