"""The inputs a command runs a model on: real tensors from an ``.npz`` file, or seeded tensors of given shapes.

A member's export often has symbolic dimensions (batch, height, width) and more than one input; sizes, latencies
and the lossless check of data-dependent graphs (a detector keeping a variable number of boxes) only mean
something on inputs a real image would give. Every command that runs a model therefore takes

* ``--inputs FILE.npz``: one array per model input, by input name (a preprocessed photograph, say), checked
  against the declared element type and static dimensions; or
* ``--input-shape D1,D2,...`` (the single input) / repeated ``--input-shape NAME=D1,D2,...``: seeded tensors
  of those shapes (standard normal floats, integers 0..9), for inputs whose shape the graph leaves symbolic;

and says which it used (:attr:`ModelInputs.description`). A symbolic input without either is an error that
names both options.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Mapping, Sequence

import numpy as np

from harness.split.graph import ModelSource
from harness.split.plan import SplitPlanner

UNNAMED = ""  # the key of a shape given without a name: the model's single input


class InputError(ValueError):
    """Inputs that do not fit the model; the message names the input, the option and what to give."""


def parse_input_shape(text: str) -> tuple[str, tuple[int, ...]]:
    """``NAME=1,3,320,320`` or ``1,3,320,320`` (also ``1x3x320x320``) -> (name or "", dims)."""
    name, _, dims_text = text.rpartition("=")
    try:
        dims = tuple(int(part) for part in dims_text.replace("x", ",").split(","))
    except ValueError:
        raise InputError(f"--input-shape {text!r}: expected D1,D2,... or NAME=D1,D2,... (e.g. 1,3,320,320)") from None
    if not dims or min(dims) <= 0:
        raise InputError(f"--input-shape {text!r}: every dimension must be a positive integer")
    return name.strip(), dims


def input_shapes(values: Sequence[str] | None) -> dict[str, tuple[int, ...]]:
    """The repeated ``--input-shape`` values by input name (``""`` for the unnamed one)."""
    shapes: dict[str, tuple[int, ...]] = {}
    for text in values or ():
        name, dims = parse_input_shape(text)
        if name in shapes:
            raise InputError(f"--input-shape given twice for {name or 'the model input'!r}")
        shapes[name] = dims
    return shapes


@dataclass(frozen=True)
class ModelInputs:
    feeds: list[dict[str, np.ndarray]]
    description: str  # what the figures were measured on, for the command's output


def _describe(feed: Mapping[str, np.ndarray]) -> str:
    return ", ".join(f"{name} {'x'.join(map(str, a.shape)) or 'scalar'} {a.dtype}" for name, a in feed.items())


def model_inputs(model: ModelSource | SplitPlanner, shapes: Mapping[str, Sequence[int]] | None = None,
                 inputs_file: Path | None = None, seed: int = 0) -> ModelInputs:
    """The feed(s) of ``model``: the arrays of ``inputs_file``, else seeded tensors of the declared static
    shapes or of ``shapes`` (by input name; ``""`` for the single input)."""
    planner = model if isinstance(model, SplitPlanner) else SplitPlanner(model)
    if inputs_file is not None:
        if shapes:
            raise InputError("give --inputs or --input-shape, not both: the file's arrays carry their shapes")
        feed = read_inputs(planner, Path(inputs_file))
        return ModelInputs([feed], f"inputs from {inputs_file}: {_describe(feed)}")
    (feed,) = seeded_feeds(planner, 1, seed, resolve_shapes(planner, shapes))
    return ModelInputs([feed], f"seeded inputs (seed {seed}): {_describe(feed)}")


def resolve_shapes(planner: SplitPlanner, shapes: Mapping[str, Sequence[int]] | None,
                   option: str = "--input-shape") -> dict[str, tuple[int, ...]]:
    """``shapes`` by input name, the unnamed one (``""``) given to the model's single input; every shape
    checked against the declared static dimensions."""
    names = sorted(planner.model_inputs)
    resolved = {name: tuple(int(d) for d in dims) for name, dims in (shapes or {}).items()}
    if UNNAMED in resolved:
        if len(names) != 1:
            raise InputError(f"the model has {len(names)} inputs ({', '.join(names)}): name each one, "
                             f"{option} NAME=D1,D2,...")
        resolved[names[0]] = resolved.pop(UNNAMED)
    unknown = sorted(set(resolved) - set(names))
    if unknown:
        raise InputError(f"{option} names {', '.join(unknown)}, not inputs of the model; its inputs: "
                         f"{', '.join(names)}")
    for name, dims in resolved.items():
        _check_shape(name, planner.types[name].shape, dims, option)
    return resolved


def seeded_feeds(planner: SplitPlanner, count: int = 1, seed: int = 0,
                 shapes: Mapping[str, Sequence[int]] | None = None) -> list[dict[str, np.ndarray]]:
    """``count`` feeds from one seeded generator: standard-normal floats (uniform integers 0..9 for integer
    inputs) of the declared static shape, or of ``shapes[name]``; the same arrays on any machine."""
    rng = np.random.default_rng(seed)
    feeds = []
    for _ in range(count):
        feed = {}
        for name in sorted(planner.model_inputs):
            kind = planner.types[name]
            shape = tuple(shapes[name]) if shapes and name in shapes else kind.static_shape
            if shape is None:
                raise InputError(f"input {name!r} has a symbolic shape {kind.shape}: give it with --input-shape "
                                 f"{name}=D1,D2,... or give real tensors with --inputs FILE.npz")
            dtype = kind.dtype
            feed[name] = (rng.integers(0, 10, shape).astype(dtype) if dtype.kind in "iu"
                          else rng.standard_normal(shape).astype(dtype))
        feeds.append(feed)
    return feeds


def read_inputs(planner: SplitPlanner, path: Path) -> dict[str, np.ndarray]:
    if not path.is_file():
        raise InputError(f"--inputs {path}: no such file (an .npz with one array per model input)")
    try:
        with np.load(path, allow_pickle=False) as data:
            arrays = {key: data[key] for key in data.files}
    except Exception as exc:  # numpy raises ValueError, OSError or BadZipFile by case
        raise InputError(f"--inputs {path}: not a readable .npz file ({exc})") from None
    names = sorted(planner.model_inputs)
    missing = [n for n in names if n not in arrays]
    if missing:
        raise InputError(f"--inputs {path} lacks {', '.join(missing)}; it holds {', '.join(sorted(arrays)) or 'nothing'}"
                         f" and the model's inputs are {', '.join(names)}")
    feed = {}
    for name in names:
        kind, array = planner.types[name], arrays[name]
        want = kind.dtype
        if array.dtype != want:
            raise InputError(f"--inputs {path}: {name} is {array.dtype}, the model declares {want}")
        _check_shape(name, kind.shape, array.shape, f"--inputs {path}")
        feed[name] = np.ascontiguousarray(array)
    return feed


def _check_shape(name: str, declared: Sequence | None, shape: Sequence[int], option: str) -> None:
    if declared is None:
        return
    if len(declared) != len(shape) or any(isinstance(d, int) and d != s for d, s in zip(declared, shape)):
        shown = "x".join("?" if not isinstance(d, int) else str(d) for d in declared)
        raise InputError(f"{option}: {name} of shape {'x'.join(map(str, shape))} does not fit the declared {shown}")
