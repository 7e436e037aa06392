"""The embedded model and its held-out evaluation set: integrity, size, and that the set measures something."""
from __future__ import annotations

import hashlib
import json
import random
import re

import pytest
import torch

from harness.asr import embedded, grammar
from harness.asr.labels import encode_transcript
from harness.assetstore import paths
from harness.assetstore.paths import AssetMissing
from harness.files import REPO_ROOT
from harness.datasets.librispeech import LibriSpeechSet

pytestmark = pytest.mark.asr


def synth_module():
    import importlib.util
    from pathlib import Path

    path = Path(__file__).resolve().parents[2] / "scripts" / "synthesize_speech.py"
    spec = importlib.util.spec_from_file_location("synthesize_speech", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def manifest() -> dict:
    path = embedded.eval_root() / "manifest.json"
    if not path.is_file():
        pytest.fail(f"{path} missing (a committed asset): run scripts/synthesize_speech.py eval --out {embedded.eval_root()}")
    return json.loads(path.read_text(encoding="utf-8"))


def test_weights_checksum_size_and_safe_load() -> None:
    reason = embedded.missing_asset_reason()
    if reason:
        pytest.fail(f"committed asset missing: {reason}")
    weights = embedded.weights_path()
    assert hashlib.md5(weights.read_bytes()).hexdigest() == embedded.checksum_path().read_text().split()[0]
    assert weights.stat().st_size <= 20 * 2**20
    state = torch.load(weights, weights_only=True)
    info = json.loads(embedded.info_path().read_text())
    assert sum(t.numel() for t in state.values()) == info["num_params"]
    assert embedded.load_small_model().state_dict().keys() == state.keys()


def test_damaged_weights_are_reported(tmp_path, monkeypatch: pytest.MonkeyPatch) -> None:
    reason = embedded.missing_asset_reason()
    if reason:
        pytest.fail(f"committed asset missing: {reason}")
    bad = tmp_path / "asr_small.pt"
    data = bytearray(embedded.weights_path().read_bytes())
    data[-100] ^= 0xFF
    bad.write_bytes(bytes(data))
    bad.with_suffix(".json").write_bytes(embedded.info_path().read_bytes())  # the model JSON lives beside it
    _place_asset(monkeypatch, embedded.WEIGHTS_ASSET, bad)
    with pytest.raises(ValueError, match=r"asr_small.pt has md5 [0-9a-f]{32}, asr_small.md5 says [0-9a-f]{32}: "
                                         r"the file is damaged"):
        embedded.load_small_model()


def _place_asset(monkeypatch: pytest.MonkeyPatch, name: str, path) -> None:
    """Make the manifest's location of asset ``name`` read as ``path`` (its md5 still the manifest's)."""
    real = paths.asset_path
    monkeypatch.setattr(paths, "asset_path", lambda asset, *args, **kwargs:
                        path if asset == name else real(asset, *args, **kwargs))


def test_paths_come_from_the_manifest() -> None:
    # the weights, their sidecar, the model JSON beside them and the evaluation set: references/assets.yaml
    assert embedded.weights_path() == paths.asset_path("asr_small")
    assert embedded.checksum_path() == REPO_ROOT / paths.manifest_asset("asr_small").md5_file
    assert embedded.info_path() == paths.asset_path("asr_small").with_suffix(".json")
    assert embedded.eval_root() == paths.asset_path("asr_small_eval")


def test_missing_weights_name_the_file_and_how_to_obtain_them(tmp_path, monkeypatch: pytest.MonkeyPatch) -> None:
    gone = tmp_path / "asr_small.pt"
    _place_asset(monkeypatch, embedded.WEIGHTS_ASSET, gone)
    assert embedded.missing_asset_reason() == (f"embedded ASR asset {gone} is missing: run scripts/train_asr_small.py "
                                               "(see its docstring)")
    with pytest.raises(FileNotFoundError, match="train_asr_small.py"):
        embedded.load_small_model()
    obtain = paths.manifest_asset("asr_small").obtain
    with pytest.raises(AssetMissing, match=f"{re.escape(str(gone))} .*{re.escape(obtain)}"):
        paths.verified_asset("asr_small")
    assert isinstance(embedded.load_small_model(pre_trained=False), torch.nn.Module)  # the architecture needs no file


def test_eval_set_is_held_out_and_complete(manifest: dict) -> None:
    synth = synth_module()
    dataset = LibriSpeechSet(embedded.eval_root(), "test-clean")
    utterances = manifest["utterances"]
    assert len(dataset) == len(utterances) >= 100
    assert {u.utt_id: u.transcript for u in dataset} == {u["id"]: u["text"] for u in utterances}
    # no variant heard in training; every voice is new (accent or variant); noisier than training's clean speech
    train_voices = {f"{lang}+{var}" if var else lang for lang in synth.TRAIN_LANGUAGES for var in synth.TRAIN_VARIANTS}
    assert not {u["voice"] for u in utterances} & train_voices
    assert not {u["voice"].split("+")[1] for u in utterances} & set(synth.TRAIN_VARIANTS)
    assert all(synth.EVAL_SNR_DB[0] <= u["snr_db"] <= synth.EVAL_SNR_DB[1] for u in utterances)
    # no sentence of the evaluation set is a training sentence; every word is in the vocabulary
    train = set(grammar.sentences(synth.EVAL_EXCLUDES_FIRST, synth.TRAIN_SEED))
    assert not {u["text"].lower() for u in utterances} & train
    vocab = set(grammar.vocabulary())
    assert {w for u in utterances for w in u["text"].lower().split()} <= vocab
    for u in utterances:
        encode_transcript(u["text"])


def test_grammar_is_seeded() -> None:
    assert grammar.sentences(20, 7) == grammar.sentences(20, 7)
    assert grammar.sentences(20, 7) != grammar.sentences(20, 8)
    assert 250 <= len(grammar.vocabulary()) <= 500
    assert all(w in grammar.vocabulary() for s in grammar.sentences(200, 3) for w in s.split())
    assert len(set(grammar.sentences(300, random.Random(0).randint(0, 99)))) == 300


def test_espeak_synthesis_is_deterministic() -> None:
    from harness.asr.synthesis import Voice, espeak_unavailable_reason, synthesize

    reason = espeak_unavailable_reason()
    if reason:
        pytest.skip(reason)  # a system tool the rebuild script uses, not a declared dependency
    voice = Voice("en-us", "m2", 160, 50)
    a, b = synthesize("the old man saw a dog", voice), synthesize("the old man saw a dog", voice)
    assert a.dtype.name == "float32" and 8000 < a.size < 64000 and (a == b).all()
    with pytest.raises(RuntimeError, match="espeak-ng failed for voice 'xx-nothing'"):
        synthesize("hello", Voice("xx-nothing", "", 160, 50))
