"""Test matrices are data: ``matrix/<scenario>.yaml`` lists split points, coders, detectors/models."""
from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from harness.references import REPO_ROOT

MATRIX_DIR = REPO_ROOT / "matrix"


def load_matrix(name: str, directory: Path = MATRIX_DIR) -> dict[str, Any]:
    path = directory / f"{name}.yaml"
    if not path.is_file():
        known = ", ".join(sorted(p.stem for p in directory.glob("*.yaml"))) or "none"
        raise FileNotFoundError(f"no test matrix {path}; known matrices: {known}")
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    if not isinstance(data, dict):
        raise ValueError(f"{path}: expected a mapping at the top level")
    return data
