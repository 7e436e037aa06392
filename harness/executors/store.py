"""Content-addressed store of shard partials: an interrupted run resumes, an unchanged re-run costs nothing.

An entry is the partial of one cell on one shard. Its key is the SHA-256 of a canonical JSON identity: the
scenario, the cell's fingerprint (asset md5s, model md5, split, coder spec, device: see
:meth:`ShardedScenario.cell_fingerprint`), the shard's unit ids, and the code version (``harness.__version__`` plus
a digest of the Python sources the scenario declares its partials depend on, ``ShardedScenario.shard_code``, so
that an edited coder never reuses a stale partial while an edit elsewhere in the suite does not throw the store
away). Entries are written with :func:`harness.files.atomic_write` (a temporary file renamed into place), so a
reader sees a complete entry or none: a run killed mid-write leaves a ``.tmp`` file that is never read. Each entry
repeats its identity, checked on load, so a damaged or foreign file is recomputed, not used.

The default root is ``<cache root>/shards`` (``harness.files.cache_root()``); ``--shard-store DIR`` points at a
folder every node and every later run can see. Only the driver reads and writes it (partials travel through
the Ray object store), so the nodes need no shared file system.
"""
from __future__ import annotations

import hashlib
import json
import pickle
from pathlib import Path
from typing import Any, Mapping, Sequence

from harness.files import atomic_write, cache_root, code_version

STORE_FORMAT = 1
MAGIC = b"harness-shard-entry\n"


def default_root() -> Path:
    return cache_root() / "shards"


class ShardStore:
    """Partials by content key under ``root``; with ``rerun`` an entry counts only once written by this run."""

    def __init__(self, root: Path | None = None, rerun: bool = False) -> None:
        self.root = Path(root) if root is not None else default_root()
        self.rerun = rerun
        self._written: set[str] = set()

    @staticmethod
    def identity(scenario: str, fingerprint: Mapping[str, Any], units: Sequence[Any],
                 code: tuple[str, ...] = ("harness",)) -> dict[str, Any]:
        return {"format": STORE_FORMAT, "code": code_version(tuple(code)), "scenario": scenario,
                "cell": dict(fingerprint), "units": list(units)}

    @staticmethod
    def key(identity: Mapping[str, Any]) -> str:
        try:
            text = json.dumps(identity, sort_keys=True, separators=(",", ":"))
        except TypeError as exc:
            raise TypeError(f"shard identity of scenario {identity.get('scenario')!r} is not JSON: {exc}; "
                            "cell_fingerprint and the units must be plain str/int/float/list/dict") from None
        return hashlib.sha256(text.encode()).hexdigest()

    def path(self, key: str) -> Path:
        return self.root / key[:2] / f"{key}.pkl"

    def has(self, key: str) -> bool:
        """Cheap presence test used to plan a run (the content is checked by :meth:`load`)."""
        if self.rerun and key not in self._written:
            return False
        return self.path(key).is_file()

    def load(self, key: str, identity: Mapping[str, Any]) -> Any:
        """The stored partial; KeyError when absent, unreadable, or stored under another identity."""
        if not self.has(key):
            raise KeyError(key)
        try:
            data = self.path(key).read_bytes()
            if not data.startswith(MAGIC):
                raise ValueError("no entry header")
            entry = pickle.loads(data[len(MAGIC):])
        except (OSError, ValueError, EOFError, pickle.UnpicklingError, AttributeError, ImportError) as exc:
            raise KeyError(f"{self.path(key)}: unreadable shard entry ({exc}); it will be recomputed") from None
        if entry.get("identity") != dict(identity):
            raise KeyError(f"{self.path(key)}: entry of another identity; it will be recomputed")
        return entry["partial"]

    def put(self, key: str, identity: Mapping[str, Any], partial: Any) -> None:
        def write(handle: Any) -> None:  # streamed: a large partial is never held twice in memory
            handle.write(MAGIC)
            pickle.dump({"identity": dict(identity), "partial": partial}, handle, protocol=pickle.HIGHEST_PROTOCOL)

        atomic_write(self.path(key), write)
        self._written.add(key)

    def discard(self, key: str) -> None:
        """Forget an entry (a damaged one is recomputed by the next plan)."""
        self.path(key).unlink(missing_ok=True)
        self._written.discard(key)
