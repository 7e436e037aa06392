"""The digests that tell two parties where their pipelines part (columns part1_sha256, part2_input_sha256)."""
from __future__ import annotations

import hashlib

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from harness.split.verify import combined_sha256, tensors_sha256


def test_known_answer() -> None:
    # name|dtype|shape| then the little-endian bytes, names in order: computed here with hashlib alone
    tensors = {"b": np.array([1, 2], dtype="<i8"), "a": np.array([[1.5]], dtype="<f4")}
    digest = hashlib.sha256()
    digest.update(b"a|<f4|1x1|" + np.float32(1.5).tobytes())
    digest.update(b"b|<i8|2|" + np.array([1, 2], "<i8").tobytes())
    assert tensors_sha256(tensors) == digest.hexdigest()
    assert combined_sha256(["x", "y"]) == hashlib.sha256(b"x\ny").hexdigest()


@settings(max_examples=40, deadline=None)
@given(arrays(np.float32, st.integers(1, 50), elements=st.floats(-1e3, 1e3, width=32)), st.data())
def test_one_bit_anywhere_changes_the_digest(values: np.ndarray, data: st.DataObject) -> None:
    position = data.draw(st.integers(0, values.size - 1))
    bit = data.draw(st.integers(0, 31))
    flipped = values.copy()
    flipped.view(np.uint32)[position] ^= np.uint32(1 << bit)
    assert tensors_sha256({"x": values}) != tensors_sha256({"x": flipped})
    # the same values in another byte order or memory layout are the same tensor
    assert tensors_sha256({"x": values}) == tensors_sha256({"x": values.astype(">f4")})


def test_shape_and_name_are_part_of_the_digest() -> None:
    flat = np.arange(6, dtype=np.float32)
    assert tensors_sha256({"x": flat}) != tensors_sha256({"x": flat.reshape(2, 3)})
    assert tensors_sha256({"x": flat}) != tensors_sha256({"y": flat})
    assert tensors_sha256({"x": flat.reshape(2, 3).T}) == tensors_sha256({"x": np.ascontiguousarray(flat.reshape(2, 3).T)})
