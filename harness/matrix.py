"""The one matrix loader: ``matrix/<scenario>.yaml`` is the only source of a scenario's axes.

Split points, coders, QPs, models and bandwidths are read from the matrix by tests, benchmarks and the report;
nothing restates them. Every key of a matrix file is read or is an error: the scenario declares its keys
(``Scenario.matrix_keys``), and a key it does not declare (a typo such as ``coder:``) stops the run with the
file, the key and the keys allowed.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, Mapping, Protocol, Sequence

import yaml

from harness.files import REPO_ROOT

MATRIX_DIR = REPO_ROOT / "matrix"


class MatrixError(ValueError):
    """A matrix file that is missing, malformed or holds a key its scenario does not read."""


def matrix_file(name: str, directory: Path = MATRIX_DIR) -> Path:
    return directory / f"{name}.yaml"


def load_matrix(name: str, directory: Path = MATRIX_DIR, path: Path | None = None) -> dict[str, Any]:
    """The raw mapping of ``matrix/<name>.yaml`` (or ``path``)."""
    path = path or matrix_file(name, directory)
    if not path.is_file():
        known = ", ".join(sorted(p.stem for p in directory.glob("*.yaml"))) or "none"
        raise MatrixError(f"no test matrix {path}; known matrices: {known}")
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        raise MatrixError(f"{path}: not valid YAML: {exc}") from None
    if not isinstance(data, dict):
        raise MatrixError(f"{path}: expected a mapping at the top level")
    declared = data.get("scenario", name)
    if declared != name:
        raise MatrixError(f"{path}: says scenario {declared!r}, but the file is the matrix of {name!r}")
    return data


class MatrixReader(Protocol):
    """What the loader needs of a scenario class (harness.scenarios.base.Scenario has it): its name, the keys
    it reads and where its file is. A protocol, so that this support module never imports the scenarios."""

    name: str
    matrix_keys: Mapping[str, str]
    required_matrix_keys: Sequence[str]
    matrix_path: Path | None


def scenario_matrix(scenario: type[MatrixReader]) -> dict[str, Any]:
    """The matrix of a scenario class, with its keys checked against what the scenario reads."""
    path = scenario.matrix_path or matrix_file(scenario.name)
    data = load_matrix(scenario.name, path=path)
    allowed = {"scenario", *scenario.matrix_keys}
    unknown = sorted(set(data) - allowed)
    if unknown:
        raise MatrixError(f"{path}: key(s) {', '.join(unknown)} are not read by scenario {scenario.name!r}; "
                          f"allowed: {', '.join(sorted(allowed))}")
    missing = [key for key in scenario.required_matrix_keys if key not in data]
    if missing:
        raise MatrixError(f"{path}: scenario {scenario.name!r} needs key(s) {', '.join(missing)}")
    return data
