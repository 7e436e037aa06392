"""The server and the two clients of seed 001 §10.6.5, each step timed as in §10.6.8.

Server (:class:`Server`): quantise the float model once at the highest precision (step 2; every lower
precision is its codes shifted right, :mod:`harness.coders.nested_grid` claim 1), then encode streams (step 3):

* a model at b bits: ``nnc-int:bits=b`` (:mod:`harness.coders.nnc_int`), integer tensors carried exactly;
* an exact update L -> H: ``nnc-int:bits=H,base_bits=L``, the next H - L bits of every code;
* a lossy update L -> H: the float difference x^_H - x^_L coded by ``nncodec:qp=Q`` (NNCodec quantises it).

An update names its base: the tensor :data:`BASE_KEY` holds the SHA-256 of the bitstream it applies to (the
low model, or the previous update of a chain), so a client refuses it on any other base
(:class:`WrongBaseError`) instead of silently building a wrong model.

Client (:class:`Client`): decode a stream (step 4), reconstruct float32 (step 5), apply updates. An exact
update is applied to the integer codes, so low + update is the direct high model bit for bit; a lossy update
is added to the float32 parameters (after it the client holds no codes, and takes no exact update).

Start-up latency of a stream (§10.6.7) = encode + decode + reconstruct seconds (:class:`StreamTiming`).
"""
from __future__ import annotations

import hashlib
import re
import time
from dataclasses import dataclass
from typing import Mapping

import numpy as np

from harness.coders.nested_grid import QuantisedTensor, check_bits
from harness.coders import BitstreamError, decode_any, make_coder
from harness.coders.container import TensorEntry, unpack
from harness.coders.nnc_int import NncIntCoder, decode_quantised, warm_up

BASE_KEY = "__bitinc_base_sha256__"
_LOSSY = re.compile(r"lossy:qp=(-?\d+)")


class WrongBaseError(ValueError):
    """An update applied to a model it was not made for."""


@dataclass(frozen=True)
class UpdateMode:
    """``exact`` or ``lossy:qp=Q`` (Q: NNCodec quantisation parameter of the float difference)."""

    kind: str
    qp: int | None = None

    @classmethod
    def parse(cls, text: str) -> "UpdateMode":
        text = str(text).strip()
        if text == "exact":
            return cls("exact")
        match = _LOSSY.fullmatch(text)
        if not match:
            raise ValueError(f"update mode {text!r}: use 'exact' or 'lossy:qp=Q' with an integer Q, e.g. lossy:qp=-30")
        make_coder(f"nncodec:qp={match.group(1)}")  # range check by the coder itself
        return cls("lossy", int(match.group(1)))

    @property
    def label(self) -> str:
        return "exact" if self.kind == "exact" else f"lossy:qp={self.qp}"


@dataclass(frozen=True)
class StreamTiming:
    """Seconds of §10.6.8 steps 3-5 for one stream."""

    encode: float = 0.0
    decode: float = 0.0
    reconstruct: float = 0.0

    @property
    def startup(self) -> float:
        """§10.6.7 start-up latency: encoding + decoding + reconstruction."""
        return self.encode + self.decode + self.reconstruct


def split_state(state: Mapping[str, np.ndarray]) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    """(floating tensors as float32, integer/bool tensors as they are), each in the state's order.

    float16/float64 parameters are quantised from their float32 values and reconstructed as float32."""
    floats, exact = {}, {}
    for name, value in state.items():
        if name == BASE_KEY:
            raise ValueError(f"state_dict has a tensor named {BASE_KEY!r}, which this suite reserves")
        array = np.asarray(value)
        if array.dtype.kind == "f":
            floats[name] = array.astype(np.float32)
        elif array.dtype.kind in "iub":
            exact[name] = array
        else:
            raise ValueError(f"tensor {name!r} has dtype {array.dtype}; only floating, integer and bool tensors")
    if not floats:
        raise ValueError("the state_dict has no floating tensor: nothing to quantise")
    return floats, exact


def digest(data: bytes) -> np.ndarray:
    return np.frombuffer(hashlib.sha256(data).digest(), dtype=np.uint8).copy()


class Server:
    """Quantises a float state once at ``top_bits`` and encodes models and updates from it."""

    def __init__(self, state: Mapping[str, np.ndarray], top_bits: int) -> None:
        floats, self.exact = split_state(state)
        warm_up()  # not part of any timed step
        self.order = list(state)  # streams keep the model's own tensor order
        self.top_bits = check_bits(top_bits)
        start = time.perf_counter()
        self.codes = {name: QuantisedTensor.of(array, self.top_bits) for name, array in floats.items()}
        self.quantise_seconds = time.perf_counter() - start
        self._models: dict[int, tuple[bytes, float]] = {}

    def _at(self, bits: int) -> dict[str, QuantisedTensor]:
        if check_bits(bits) > self.top_bits:
            raise ValueError(f"{bits} bits is above the {self.top_bits} bits this server quantised to")
        return {n: (t if bits == self.top_bits else t.coarsen(bits)) for n, t in self.codes.items()}

    def model_stream(self, bits: int) -> tuple[bytes, float]:
        """(bitstream of the model at ``bits``, encode seconds); encoded once per server and precision."""
        if bits not in self._models:
            start = time.perf_counter()
            coder = make_coder(f"nnc-int:bits={bits}")
            tensors = {**self._at(bits), **self.exact}
            data = coder.encode_quantised({name: tensors[name] for name in self.order})
            self._models[bits] = (data, time.perf_counter() - start)
        return self._models[bits]

    def update_stream(self, base_bits: int, bits: int, mode: UpdateMode, base: bytes) -> tuple[bytes, float]:
        """(bitstream of the update from ``base_bits`` to ``bits`` naming ``base``, encode seconds)."""
        if check_bits(base_bits) >= check_bits(bits):
            raise ValueError(f"low bit width {base_bits} must be below the high bit width {bits}")
        start = time.perf_counter()
        high = self._at(bits)
        if mode.kind == "exact":
            coder = make_coder(f"nnc-int:bits={bits},base_bits={base_bits}")
            updates = {n: t.update_from(base_bits) for n, t in high.items()}
            data = coder.encode_quantised({**updates, BASE_KEY: digest(base)})
        else:
            low = self._at(base_bits)
            diff = {n: high[n].reconstruct() - low[n].reconstruct() for n in high}
            data = make_coder(f"nncodec:qp={mode.qp}").encode({**diff, BASE_KEY: digest(base)})
        return data, time.perf_counter() - start

    def steps(self, **precisions: int) -> dict[str, dict[str, float]]:
        """Per tensor its channel count and the quantisation step at each named precision (largest over its
        channels; the largest reconstruction error is half of it), e.g. ``steps(low=8, high=16)``."""
        out = {}
        for name, tensor in self.codes.items():
            widest = float(np.max(tensor.steps()))
            out[name] = {"channels": int(tensor.lo.size)}
            for label, bits in precisions.items():
                out[name][f"{label}_step"] = widest * 2.0 ** (self.top_bits - bits)
        return out


class Client:
    """A UE: receives a model, then updates; holds the float32 state, the codes and the last bitstream."""

    def __init__(self) -> None:
        warm_up()
        self.state: dict[str, np.ndarray] = {}
        self.codes: dict[str, QuantisedTensor] | None = None
        self.exact: dict[str, np.ndarray] = {}
        self.last: bytes | None = None

    def receive_model(self, data: bytes) -> StreamTiming:
        start = time.perf_counter()
        coder, tensors = decode_quantised(data)
        if coder.base_bits:
            raise ValueError(f"bitstream holds an update ({coder.spec}), not a model: receive a model first")
        decoded = time.perf_counter()
        self.codes = {n: t for n, t in tensors.items() if isinstance(t, QuantisedTensor)}
        self.exact = {n: t for n, t in tensors.items() if not isinstance(t, QuantisedTensor)}
        self.state = self._assemble({n: t.reconstruct() for n, t in self.codes.items()}, order=list(tensors))
        done = time.perf_counter()
        self.last = data
        return StreamTiming(decode=decoded - start, reconstruct=done - decoded)

    def receive_update(self, data: bytes) -> StreamTiming:
        if self.last is None:
            raise ValueError("an update needs a base model: receive the low-precision model first")
        start = time.perf_counter()
        spec, entries = unpack(data)
        self._check_base(entries)  # before any payload is decoded
        exact = spec.startswith(f"{NncIntCoder.name}:")
        tensors = decode_quantised(data)[1] if exact else decode_any(data)
        decoded = time.perf_counter()
        order = list(self.state)
        if exact:
            if self.codes is None:
                raise ValueError("an exact update needs integer codes, but this client took a lossy update before")
            self.codes = {n: t.apply(_take(tensors, n, QuantisedTensor)) for n, t in self.codes.items()}
            self.state = self._assemble({n: t.reconstruct() for n, t in self.codes.items()}, order)
        else:
            floats = {n: self.state[n] + _take(tensors, n) for n in self.codes or _floats(self.state, self.exact)}
            self.codes = None
            self.state = self._assemble(floats, order)
        done = time.perf_counter()
        self.last = data
        return StreamTiming(decode=decoded - start, reconstruct=done - decoded)

    def _check_base(self, entries: list[TensorEntry]) -> None:
        named = next((e for e in entries if e.name == BASE_KEY), None)
        if named is None or named.dtype != "uint8" or named.shape != (32,) or len(named.payload) != 32:
            raise BitstreamError(f"bitstream names no base model (no {BASE_KEY} tensor): it is not an update")
        have = hashlib.sha256(self.last or b"").digest()
        if named.payload != have:
            raise WrongBaseError(f"the update applies to the base bitstream with SHA-256 "
                                 f"{named.payload.hex()[:16]}..., not to this one ({have.hex()[:16]}...): apply it to "
                                 "the low-precision model (or previous update) it was made from")

    def _assemble(self, floats: dict[str, np.ndarray], order: list[str]) -> dict[str, np.ndarray]:
        merged = {**floats, **self.exact}
        return {n: merged[n] for n in order if n in merged}


def _take(tensors: Mapping[str, object], name: str, kind: type = np.ndarray):
    if not isinstance(tensors.get(name), kind):
        raise BitstreamError(f"the update has no {'coded ' if kind is QuantisedTensor else ''}tensor {name!r} of "
                             "the base model")
    return tensors[name]


def _floats(state: Mapping[str, np.ndarray], exact: Mapping[str, np.ndarray]) -> list[str]:
    return [n for n in state if n not in exact]
