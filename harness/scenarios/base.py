"""The one Scenario interface (seed 001 §2.1.2.4, widened to every task of the suite).

A scenario is one registered class (``@SCENARIOS.register(name)``) plus one matrix file
``matrix/<name>.yaml`` plus its references under ``references/expected_metrics.json[name]``. The same name is
the pytest marker. A scenario

* declares the keys its matrix may hold (``matrix_keys``; any other key is an error, see harness.matrix),
* builds its cells from the matrix (:meth:`Scenario.cells`; cheap, no model is loaded at collection),
* declares its metrics (:class:`Metric`: unit, direction, whether it gates against the references),
* names the assets a cell needs and why it cannot run (:meth:`Scenario.missing_reason` -> skip reason),
* runs one cell (:meth:`Scenario.run_cell`) and checks what is specific to it (:meth:`Scenario.check_cell`).

The generic test (harness.pytest_plugin.cells) turns every cell of every registered scenario into one test id,
compares the gating metrics with the reference at ``cell.reference_key`` and writes one results row built
from the cell's identity (its axes are results columns) plus the outcome's columns.

Two families are built on it: split inference (harness.scenarios.ssd; PoseNet next) and model coding
(:class:`ModelCodingScenario` in harness.scenarios.model_coding, which keeps the seed's get_model /
download_data_and_models / get_perf methods).
"""
from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar, Mapping, Sequence

# coder_name of the cell that runs the uncoded model (the unsplit detector, the original weights): the anchor
# every coded cell of its group is compared with
ANCHOR = "anchor"
#: the axis of a cell that runs part of each video sequence (RunContext.frames_axis)
FRAMES_AXIS = "frames"
# how an axis value reads in test ids and reference keys where the bare value would not explain itself
AXIS_LABELS = {"split": "split{}"}


def axis_label(axis: str, value: Any) -> str:
    return AXIS_LABELS.get(axis, "{}").format(value)


@dataclass(frozen=True)
class Metric:
    """One measured quantity of a scenario.

    ``unit``: how values are stored (``percent`` for every AP/mAP/WER-as-percent figure, ``fraction``,
    ``bytes``, ``s``, ``kbit/image``). ``higher_is_better``: the direction (None for sizes and timings that
    are not a quality). ``gates``: compared with the reference within tolerances.yaml.
    """

    name: str
    unit: str
    higher_is_better: bool | None = None
    gates: bool = True

    def fraction_of_anchor(self, measured: float, anchor: float) -> float | None:
        """The measured accuracy as a fraction of the anchor's (MLPerf states targets as 99 % of the FP32
        reference): the ratio of the figures for a quality, of the complements for an error rate (WER 0.10
        against 0.05 gives 0.90 / 0.95 of the word accuracy); None for a metric that is not a quality or an
        anchor of 0."""
        if self.higher_is_better is None:
            return None
        if not self.higher_is_better:
            full = {"fraction": 1.0, "percent": 100.0}.get(self.unit)
            if full is None:
                return None
            measured, anchor = full - measured, full - anchor
        return measured / anchor if anchor else None


@dataclass(frozen=True)
class Cell:
    """One point of a scenario's matrix: ordered (axis, value) pairs. Its identity gives the test id, the
    reference key and the identity columns of the results row, so the three can never disagree."""

    scenario: str
    axes: tuple[tuple[str, Any], ...]
    marks: tuple[str, ...] = ()  # extra pytest markers (e.g. "slow"); the scenario's own marker is implied

    def __getitem__(self, axis: str) -> Any:
        for name, value in self.axes:
            if name == axis:
                return value
        raise KeyError(f"cell {self.id} has no axis {axis!r}; axes: {', '.join(n for n, _ in self.axes)}")

    def get(self, axis: str, default: Any = None) -> Any:
        return next((value for name, value in self.axes if name == axis), default)

    @property
    def id(self) -> str:
        """The pytest id: scenario then the axis values in order, joined by '-'."""
        return "-".join([self.scenario, *(axis_label(axis, value) for axis, value in self.axes)])

    @property
    def reference_key(self) -> list[str]:
        """Where the cell's reference lives: ``[scenario, "v1/v2/..."]`` in references/expected_metrics.json."""
        return [self.scenario, "/".join(axis_label(axis, value) for axis, value in self.axes)]

    def reference_key_on(self, device: str) -> list[str]:
        """The reference key of this cell measured on ``device`` instead: where a cell of a platform without
        references of its own finds those of the reference platform."""
        if self.get("device") is None:
            return self.reference_key
        axes = tuple((axis, device if axis == "device" else value) for axis, value in self.axes)
        return Cell(self.scenario, axes, self.marks).reference_key

    def identity_row(self) -> dict[str, Any]:
        return {"scenario_name": self.scenario, **dict(self.axes)}


@dataclass
class CellOutcome:
    """What running a cell gives: ``metrics`` are compared with the reference (only the scenario's gating
    metrics are), ``columns`` go to the results row beside the cell's identity."""

    metrics: dict[str, Any]
    columns: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class RunContext:
    """What a scenario may read of the run: user assets, devices, where side outputs (predictions, plots) go."""

    data_dir: Path | None = None
    devices: tuple[str, ...] = ("cpu",)
    results_dir: Path = Path("results")
    #: frames of video sequences to run (start, stop), Python slice bounds; None: every frame
    frames: tuple[int | None, int | None] | None = None
    frame_stride: int = 1  # every Nth frame of the selection

    @property
    def frame_selection(self) -> str | None:
        """``start:stop:stride`` when frames are selected, None for whole sequences."""
        if self.frames is None and self.frame_stride == 1:
            return None
        start, stop = self.frames or (None, None)
        return f"{'' if start is None else start}:{'' if stop is None else stop}:{self.frame_stride}"

    def frames_axis(self, data_set: str) -> tuple[tuple[str, str], ...]:
        """The ``frames`` axis of a cell on ``data_set`` when the run selects frames of video sequences: the
        cell then never meets the whole sequence's references, and two selections are two cells. Empty for a
        set of still images or a run of whole sequences."""
        from harness.detection.datasets import is_video_sequence

        selection = self.frame_selection
        return ((FRAMES_AXIS, selection),) if selection is not None and is_video_sequence(data_set) else ()

    def detection_set(self, name: str) -> Any:
        """Detection data set ``name`` from the catalogue under ``data_dir``, a video sequence cut to the
        run's frame selection."""
        from harness.detection.datasets import open_detection_set

        return open_detection_set(name, self.data_dir, self.frames, self.frame_stride)


class Scenario(ABC):
    """Base of every scenario. Subclasses set ``name`` through the registry, ``metrics`` and ``matrix_keys``."""

    name: ClassVar[str] = ""
    description: ClassVar[str] = ""
    metrics: ClassVar[tuple[Metric, ...]] = ()
    #: matrix key -> what it means; ``scenario`` is always allowed; keys not here are an error
    matrix_keys: ClassVar[Mapping[str, str]] = {}
    #: keys that must be present
    required_matrix_keys: ClassVar[Sequence[str]] = ()
    #: where the matrix file is (None: ``matrix/<name>.yaml``); a scenario outside the repository sets it
    matrix_path: ClassVar[Path | None] = None

    def __init__(self, matrix: Mapping[str, Any], context: RunContext) -> None:
        """Cheap: keep the matrix and the context; load models and data lazily in :meth:`run_cell`."""
        self.matrix = matrix
        self.context = context

    # --- declared ------------------------------------------------------------------------------------
    @classmethod
    def metric(cls, name: str) -> Metric:
        for metric in cls.metrics:
            if metric.name == name:
                return metric
        raise KeyError(f"scenario {cls.name!r} declares no metric {name!r}; "
                       f"known: {', '.join(m.name for m in cls.metrics)}")

    @classmethod
    def gating_metrics(cls) -> list[str]:
        return [m.name for m in cls.metrics if m.gates]

    # --- cells ---------------------------------------------------------------------------------------
    @abstractmethod
    def cells(self) -> list[Cell]:
        """Every cell of the matrix, for the devices of the context, in a stable order."""

    def missing_reason(self, cell: Cell) -> str | None:
        """Why the cell cannot run here (names the file to provide and where), or None."""
        return None

    @abstractmethod
    def run_cell(self, cell: Cell) -> CellOutcome:
        """Measure one cell."""

    def check_cell(self, cell: Cell, outcome: CellOutcome) -> None:
        """Independent checks specific to the scenario (e.g. a lossless coder reproduces the anchor); raise
        AssertionError. Runs before the reference comparison, also under --update-references."""

    def check_run(self, rows: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
        """Checks over the run's cells of this scenario, made once every cell has run (e.g. seed 001 table
        10.1.9-1's test case over a model's whole sweep): one results row each, with ``cell_id`` and
        ``status`` (``pass``/``fail``) and, on failure, ``failure`` saying why. None by default; a sweep the
        run did not complete (``-k``) gives no row rather than a verdict on part of it."""
        return []

    def sizes_follow_inference(self, cell: Cell) -> bool:
        """Whether the cell's bitstream sizes follow tensors inferred on its device through a coder whose
        size depends on the values (then, across platforms, sizes take the cross-platform band of
        tolerances.yaml; otherwise they stay exact). False by default: coded models, seeded tensors and
        images are the same on every platform."""
        return False

    def gated(self, outcome: CellOutcome) -> dict[str, Any]:
        """The metrics of an outcome that are compared with references."""
        names = set(self.gating_metrics())
        return {k: v for k, v in outcome.metrics.items() if k in names}
