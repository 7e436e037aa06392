"""The submission file: a zip read wholly into memory (never extracted) and written deterministically.

Reading refuses what could hurt the reader before any content is looked at: a file that is not a zip,
member names that are absolute or climb out (``../``), duplicate names, and archives that would inflate
beyond :data:`harness.results.MAX_ARCHIVE_BYTES`. That reading is :func:`harness.results.read_archive`, shared with every
reader of a submission's results, so a report or a comparison of a zip refuses exactly what the checker
refuses. Writing uses fixed timestamps and sorted names, so the same inputs give the same bytes, and goes
through :func:`harness.files.atomic_write` (no half-written zip under the final name).
"""
from __future__ import annotations

import hashlib
import io
import json
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping

from harness.files import atomic_write
from harness.results import (ARCHIVE_RESULTS_CSV, ARCHIVE_RESULTS_JSON, archive_results,
                             read_archive)

SUMS = "SHA256SUMS"
INFO = "submission.json"
ENVIRONMENT = "environment.json"
ASSETS = "assets.json"
RESULTS_CSV = ARCHIVE_RESULTS_CSV
RESULTS_JSON = ARCHIVE_RESULTS_JSON
REPORT = "results/report.html"
MATRIX_DIR = "matrix"
REQUIRED = (INFO, ENVIRONMENT, ASSETS, RESULTS_CSV, RESULTS_JSON, REPORT)
ZIP_TIME = (1980, 1, 1, 0, 0, 0)


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def sums_text(files: Mapping[str, bytes]) -> str:
    """``sha256sum`` format (``<hex>  <name>``), sorted: ``sha256sum -c SHA256SUMS`` checks an unpacked copy."""
    return "".join(f"{sha256(files[name])}  {name}\n" for name in sorted(files) if name != SUMS)


def parse_sums(text: str) -> tuple[dict[str, str], list[str]]:
    """({name: hex}, malformed lines) of a SHA256SUMS text."""
    sums, bad = {}, []
    for line in text.splitlines():
        digest, sep, name = line.partition("  ")
        if not sep or len(digest) != 64 or any(c not in "0123456789abcdef" for c in digest) or not name:
            if line.strip():
                bad.append(line[:80])
            continue
        sums[name] = digest
    return sums, bad


@dataclass
class Submission:
    """The members of a submission by name."""

    label: str
    files: dict[str, bytes]

    @classmethod
    def open(cls, path: Path) -> "Submission":
        path = Path(path)
        if not path.is_file():
            raise FileNotFoundError(f"submission {path} does not exist; make one with `python -m harness submit`")
        return cls.from_bytes(path.read_bytes(), str(path))

    @classmethod
    def from_bytes(cls, data: bytes, label: str) -> "Submission":
        return cls(label, read_archive(data, label))

    def text(self, name: str) -> str:
        return self.files[name].decode("utf-8")

    def json(self, name: str) -> Any:
        return json.loads(self.text(name))

    def results(self) -> tuple[dict[str, Any], list[dict[str, Any]]]:
        """(environment, typed rows) of the packed results.json (results.csv when it is absent)."""
        return archive_results(self.files, self.label)

    def to_bytes(self) -> bytes:
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
            for name in sorted(self.files):
                info = zipfile.ZipInfo(name, date_time=ZIP_TIME)
                info.compress_type = zipfile.ZIP_DEFLATED
                info.external_attr = 0o644 << 16
                archive.writestr(info, self.files[name])
        return buffer.getvalue()

    def write(self, path: Path) -> None:
        data = self.to_bytes()
        atomic_write(Path(path), lambda handle: handle.write(data))
