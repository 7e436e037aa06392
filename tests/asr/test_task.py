"""The seed interface of Fig. 2.1.2.4-1 for one ASR model (harness.asr.task): models, data sets, no silent
download."""
from __future__ import annotations

from pathlib import Path
import pytest
import torch
import torchaudio

from harness.asr import pretrained
from harness.scenarios import SCENARIOS
from harness.asr.task import AsrOptions, AsrTask, build_task, data_set_name
from harness.models.task import SeedScenario
from harness.scenarios.model_coding import ModelCodingScenario

pytestmark = pytest.mark.asr


@pytest.fixture
def empty_hub(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A torch hub cache without any weights, so lookups cannot find a real file by accident."""
    hub = tmp_path / "hub"
    monkeypatch.setattr(torch.hub, "get_dir", lambda: str(hub))
    return hub


def test_registered_in_the_model_coding_family_with_the_seed_interface() -> None:
    cls = SCENARIOS.get("asr")
    assert issubclass(cls, ModelCodingScenario) and cls.metric("wer").higher_is_better is False
    assert issubclass(AsrTask, SeedScenario) and AsrTask.metric_name == "wer"


@pytest.mark.parametrize("opts, message", [
    (AsrOptions(model_name="whisper"), "unknown ASR model 'whisper'"),
    (AsrOptions(data_set_name="timit"), "unknown ASR data set 'timit'"),
    (AsrOptions(model_name="wav2vec2_asr_base_960h", data_set_name="librispeech-test-clean"), "needs --data-dir"),
])
def test_bad_options(opts: AsrOptions, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        AsrTask(opts)


@pytest.mark.parametrize("model_name, bundle", [("wav2vec2_asr_base_960h", "WAV2VEC2_ASR_BASE_960H"),
                                                 ("hubert_asr_large", "HUBERT_ASR_LARGE")])
def test_missing_weights_name_the_file_and_never_download(model_name: str, bundle: str, tmp_path: Path,
                                                          empty_hub: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def no_network(*args, **kwargs):
        raise AssertionError("attempted a download")

    monkeypatch.setattr(torch.hub, "download_url_to_file", no_network)
    scenario = AsrTask(AsrOptions(model_name, "librispeech-test-clean", tmp_path))
    file_name = Path(getattr(torchaudio.pipelines, bundle)._path).name
    # the manifest's place under --data-dir (references/assets.yaml: models/<file>) is named in the reason
    with pytest.raises(FileNotFoundError, match=f"expected at {tmp_path}/models/{file_name}"):
        scenario.download_data_and_models()
    with pytest.raises(FileNotFoundError, match=file_name):
        scenario.get_model(pre_trained=True)


def test_untrained_model_needs_no_file(tmp_path: Path, empty_hub: Path) -> None:
    scenario = AsrTask(AsrOptions("wav2vec2_asr_base_960h", "librispeech-test-clean", tmp_path))
    model = scenario.get_model(pre_trained=False)
    emissions, _ = model(torch.zeros(1, 16000))
    assert emissions.shape[-1] == 29


def test_local_weight_file_is_loaded_without_network(tmp_path: Path, empty_hub: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    # A stand-in file under the bundle's file name, in fairseq's layout (32 output rows; torchaudio drops 1-3).
    monkeypatch.setattr(torch.hub, "download_url_to_file", lambda *a, **k: pytest.fail("attempted a download"))
    params = {**pretrained.bundle("WAV2VEC2_ASR_BASE_960H")._params, "aux_num_out": 32}
    source = torchaudio.models.wav2vec2_model(**params)
    # placed where `assets verify` says the asset goes under --data-dir
    place = tmp_path / "models" / pretrained.weight_file_name("WAV2VEC2_ASR_BASE_960H")
    place.parent.mkdir()
    torch.save(source.state_dict(), place)
    scenario = AsrTask(AsrOptions("wav2vec2_asr_base_960h", "librispeech-test-clean", tmp_path))
    loaded = scenario.get_model(pre_trained=True)
    state = loaded.state_dict()
    keep = [0] + list(range(4, 32))
    assert torch.equal(state["model.aux.weight"] if "model.aux.weight" in state else state["aux.weight"],
                       source.state_dict()["aux.weight"][keep])


def test_embedded_has_no_valid_partition() -> None:
    scenario = AsrTask(AsrOptions())
    with pytest.raises(ValueError, match="only a 'test' partition"):
        scenario.dataset("valid")


def test_get_perf_higher_is_better() -> None:
    task = AsrTask(AsrOptions())
    model = task.get_model(pre_trained=True)
    wer, _ = task.get_perf(model, "test")
    accuracy, seconds = task.get_perf(model, "test", enforce_higher_is_better=True)
    assert accuracy == pytest.approx(1.0 - wer) and seconds > 0
    assert task.last_wer.reference_words > 500


def test_build_task_from_a_matrix_entry(tmp_path: Path) -> None:
    # what the ASR scenario and bit-incremental delivery both build, without a scenario in between
    small = build_task("asr_small", data_dir=tmp_path)
    assert small.opts == AsrOptions("asr_small", "embedded", None, "cpu")  # the embedded set reads no --data-dir
    large = build_task("hubert_asr_large", device="cuda", data_dir=tmp_path)
    assert large.opts == AsrOptions("hubert_asr_large", "librispeech-test-clean", tmp_path, "cuda")
    assert data_set_name(small.entry) == "embedded" and data_set_name(large.entry) == "librispeech-test-clean"
    with pytest.raises(ValueError, match="needs --data-dir"):
        build_task("wav2vec2_asr_base_960h")
