"""Model-state coding (harness.coders.model_state): exact round trips, int8 error bound, decoded tensors that do
not fit."""
from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from harness.asr.small_model import SmallCtcModel
from harness.coders import BitstreamError, make_coder
from harness.coders.model_state import ModelMismatchError, code_model, load_decoded, state_dict_arrays

pytestmark = pytest.mark.asr


@pytest.fixture(scope="module")
def model() -> SmallCtcModel:
    torch.manual_seed(0)
    return SmallCtcModel().eval()


def test_raw_round_trip_is_exact_and_sized(model: SmallCtcModel) -> None:
    coded = code_model(model, make_coder("raw"))
    for name, tensor in model.state_dict().items():
        assert torch.equal(coded.model.state_dict()[name], tensor), name
    payload = sum(t.numel() * 4 for t in model.state_dict().values())
    assert payload < coded.rec_size < payload + 64 * len(model.state_dict()) + 64  # container header only


def test_fp16_equals_numpy_cast(model: SmallCtcModel) -> None:
    coded = code_model(model, make_coder("fp16"))
    for name, tensor in model.state_dict().items():
        want = tensor.numpy().astype(np.float16).astype(np.float32)
        assert np.array_equal(coded.model.state_dict()[name].numpy(), want), name


finite = st.floats(-1e3, 1e3, allow_nan=False, width=32)


@settings(max_examples=60, deadline=None)
@given(hnp.arrays(np.float32, hnp.array_shapes(min_dims=1, max_dims=3, max_side=9), elements=finite))
def test_int8_error_at_most_half_a_step(array: np.ndarray) -> None:
    coder = make_coder("int8")
    data = coder.encode({"w": array})
    out = coder.decode(data)["w"]
    scale = np.float32(np.max(np.abs(array)) / 127.0)
    assert out.dtype == np.float32 and out.shape == array.shape
    assert np.all(np.abs(out.astype(np.float64) - array) <= scale / 2 * (1 + 1e-5) + 1e-30)
    assert len(data) >= array.size + 4


def test_int8_rejects_truncated_payload() -> None:
    coder = make_coder("int8")
    good = coder.encode({"w": np.ones((4, 4), np.float32)})
    entries = __import__("harness.coders.container", fromlist=["unpack"]).unpack(good)[1]
    with pytest.raises(BitstreamError, match="corrupt int8 payload"):
        coder.decode_array(entries[0].payload[:-1], (4, 4))


def test_decoded_state_dict_missing_tensor(model: SmallCtcModel) -> None:
    arrays = state_dict_arrays(model)
    del arrays["gru.weight_hh_l1"]
    with pytest.raises(ModelMismatchError, match="lacks tensor 'gru.weight_hh_l1'"):
        load_decoded(model, arrays)


def test_decoded_state_dict_wrong_shape(model: SmallCtcModel) -> None:
    arrays = state_dict_arrays(model)
    arrays["head.weight"] = np.zeros((28, 320), np.float32)
    with pytest.raises(ModelMismatchError, match=r"'head.weight' has shape \(28, 320\), the architecture expects \(29, 320\)"):
        load_decoded(model, arrays)


def test_decoded_state_dict_extra_tensor_and_dtype(model: SmallCtcModel) -> None:
    arrays = state_dict_arrays(model)
    with pytest.raises(ModelMismatchError, match="has tensor 'extra.bias'"):
        load_decoded(model, {**arrays, "extra.bias": np.zeros(3, np.float32)})
    arrays["head.bias"] = arrays["head.bias"].astype(np.float16)
    with pytest.raises(ModelMismatchError, match="'head.bias' has dtype float16, the architecture expects float32"):
        load_decoded(model, arrays)


def test_bitstream_for_another_architecture(model: SmallCtcModel) -> None:
    from harness.asr.small_model import SmallCtcConfig

    other = SmallCtcModel(SmallCtcConfig(gru_hidden=96))
    data = make_coder("raw").encode(state_dict_arrays(other))
    from harness.coders import decode_any

    with pytest.raises(ModelMismatchError, match="decoded tensor 'gru.weight_ih_l0' has shape"):
        load_decoded(model, decode_any(data))
