"""The shard store and the shard plan (no Ray): content keys, atomic entries, --rerun, stable plans."""
from __future__ import annotations

import os

import harness
import pytest
from hypothesis import given
from hypothesis import strategies as st

from harness.executors.sharding import plan_shards
from harness.executors.store import MAGIC, ShardStore, code_version

FINGERPRINT = {"model_md5": "0" * 32, "dataset_md5": "1" * 32, "split": 30, "coder": "nncodec:qp=-26", "device": "cpu"}


def entry(store: ShardStore, units=(1, 2, 3), **changes):
    identity = ShardStore.identity("ssd", {**FINGERPRINT, **changes}, list(units))
    return ShardStore.key(identity), identity


def test_round_trip_and_content_key(tmp_path):
    store = ShardStore(tmp_path)
    key, identity = entry(store)
    assert not store.has(key)
    partial = {"sizes": [10, 20, 30], "rows": [{"image_id": 1, "score": 0.5}]}
    store.put(key, identity, partial)
    assert store.has(key) and store.load(key, identity) == partial
    assert ShardStore(tmp_path).load(key, identity) == partial  # a later run finds it
    assert key == entry(store)[0]  # same content, same key


@pytest.mark.parametrize("change", [{"model_md5": "2" * 32}, {"dataset_md5": "3" * 32}, {"split": 50},
                                    {"coder": "nncodec:qp=-18"}, {"device": "cuda"}])
def test_every_identity_component_changes_the_key(tmp_path, change):
    store = ShardStore(tmp_path)
    assert entry(store, **change)[0] != entry(store)[0]
    assert entry(store, units=(1, 2, 4))[0] != entry(store)[0]


def test_code_version_is_part_of_the_identity(tmp_path, monkeypatch):
    identity = ShardStore.identity("ssd", FINGERPRINT, [1])
    assert identity["code"] == code_version(("harness",)) and identity["code"].startswith(harness.__version__)
    # the digest follows the sources of the declared modules: an edited module gives another key
    for package, text in (("shardcode_a", "VALUE = 1\n"), ("shardcode_b", "VALUE = 2\n")):
        (tmp_path / package).mkdir()
        (tmp_path / package / "__init__.py").write_text(text)
    monkeypatch.syspath_prepend(str(tmp_path))
    versions = {code_version(("shardcode_a",)), code_version(("shardcode_b",))}
    assert len(versions) == 2 and code_version(("harness",)) not in versions
    with pytest.raises(ValueError, match="cannot be found"):
        code_version(("no_such_module_here",))


def test_partial_and_foreign_entries_are_never_read_as_complete(tmp_path):
    store = ShardStore(tmp_path)
    key, identity = entry(store)
    store.put(key, identity, list(range(1000)))
    path = store.path(key)
    full = path.read_bytes()
    path.write_bytes(full[: len(full) // 2])  # a truncated entry (e.g. a non-atomic copy)
    with pytest.raises(KeyError, match="unreadable"):
        store.load(key, identity)
    path.write_bytes(b"garbage")
    with pytest.raises(KeyError, match="unreadable"):
        store.load(key, identity)
    other_key, other_identity = entry(store, split=70)
    store.put(other_key, other_identity, "other")
    os.replace(store.path(other_key), path)  # a file under the wrong name
    with pytest.raises(KeyError, match="another identity"):
        store.load(key, identity)


def test_an_interrupted_write_leaves_no_entry(tmp_path):
    store = ShardStore(tmp_path)
    key, identity = entry(store)

    class Unpicklable:
        def __reduce__(self):
            raise KeyboardInterrupt  # the run is stopped half-way through writing the entry

    with pytest.raises(KeyboardInterrupt):
        store.put(key, identity, [bytes(1 << 20), Unpicklable()])
    assert not store.has(key) and not list(tmp_path.rglob("*.tmp"))
    # the same for a write killed after part of the bytes: only a temporary file, never the entry name
    store.path(key).parent.mkdir(parents=True, exist_ok=True)
    (store.path(key).parent / f".{key}.pkl.123.tmp").write_bytes(MAGIC + b"\x80")
    assert not store.has(key)


def test_rerun_ignores_entries_of_earlier_runs(tmp_path):
    key, identity = entry(ShardStore(tmp_path))
    ShardStore(tmp_path).put(key, identity, "old")
    rerun = ShardStore(tmp_path, rerun=True)
    assert not rerun.has(key)
    with pytest.raises(KeyError):
        rerun.load(key, identity)
    rerun.put(key, identity, "new")
    assert rerun.has(key) and rerun.load(key, identity) == "new"


def test_identity_must_be_json(tmp_path):
    with pytest.raises(TypeError, match="cell_fingerprint"):
        ShardStore.key(ShardStore.identity("ssd", {"model": object()}, [1]))


@given(st.lists(st.integers(0, 10_000), unique=True, max_size=60), st.integers(1, 17))
def test_plan_covers_units_in_order(units, size):
    shards = plan_shards("s", "g", units, size)
    assert [u for shard in shards for u in shard.units] == units
    assert all(len(shard.units) == size for shard in shards[:-1])
    assert [shard.index for shard in shards] == list(range(len(shards)))


def test_plan_rejects_bad_input():
    with pytest.raises(ValueError, match="shard size"):
        plan_shards("s", "g", [1, 2], 0)
    with pytest.raises(ValueError, match="twice"):
        plan_shards("s", "g", [1, 2, 1], 2)
