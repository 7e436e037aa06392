"""The Scenario interface of seed 001 Fig. 2.1.2.4-1, as an abstract base class."""
from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any


class Scenario(ABC):
    """A model-compression scenario: provides the anchor model and measures a model's performance."""

    metric_name: str = "MetricOfScenario"

    @abstractmethod
    def get_model(self, pre_trained: bool = True) -> Any:
        """The anchor model (pre-trained) or the same architecture un-initialised."""

    @abstractmethod
    def download_data_and_models(self) -> None:
        """Make sure models and data are available. This suite never downloads: it raises an error that says
        which file to provide and where."""

    @abstractmethod
    def get_perf(self, model: Any, partition: str = "test", enforce_higher_is_better: bool = False) -> tuple[float, float]:
        """(performance, inference plus measurement time in seconds) on the "test" or "valid" partition."""
