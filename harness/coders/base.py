"""The Coder interface (seed 001 §2.1.2.5, adapted to intermediate tensors), its registry and spec strings.

A coder turns ``{name: ndarray}`` into one self-describing container (see :mod:`harness.coders.container`)
and back. Coders are configured by one string ``name[:key=value[,key=value...]]`` (e.g. ``nncodec:qp=-26``);
``coder.spec`` is the canonical form (every parameter, in declared order) used as results column
``coder_name`` and as reference key.

Dtype policy, shared by every coder: floating tensors (float16, float32) are the features and are coded as
float32 by the coder, then returned in their input dtype; integer and bool tensors (indices, shapes, masks
that a split cut may carry) are stored exactly, since quantising them would be meaningless. float64 is
rejected (see :func:`harness.coders.container.validate_tensors`).
"""
from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Any, ClassVar, Mapping

import numpy as np

from harness.coders.container import (
    EXACT_DTYPES,
    BitstreamError,
    TensorEntry,
    pack,
    unpack,
    validate_tensors,
)
from harness.registry import Registry, RegistryError


@dataclass(frozen=True)
class Param:
    """One coder parameter: its type (int, bool or a string from ``choices``), default and allowed range."""

    name: str
    kind: type
    default: Any
    low: int | None = None
    high: int | None = None
    choices: tuple[str, ...] = ()
    help: str = ""

    def allowed(self) -> str:
        if self.choices:
            return "|".join(self.choices)
        if self.kind is bool:
            return "0|1"
        return f"integer {self.low}..{self.high}"

    def parse(self, coder: str, text: str) -> Any:
        bad = ValueError(f"coder {coder!r}: bad value {text!r} for {self.name}; allowed: {self.allowed()}")
        if self.kind is bool:
            lowered = text.lower()
            if lowered in ("1", "true", "yes", "on"):
                return True
            if lowered in ("0", "false", "no", "off"):
                return False
            raise bad
        if self.kind is int:
            try:
                value = int(text, 10)
            except ValueError:
                raise bad from None
            if (self.low is not None and value < self.low) or (self.high is not None and value > self.high):
                raise bad
            return value
        if text not in self.choices:
            raise bad
        return text

    def format(self, value: Any) -> str:
        return str(int(value)) if self.kind is bool else str(value)


class Coder(ABC):
    """Encode a dict of named tensors to bytes and back. Subclasses code one float32 array at a time."""

    name: ClassVar[str]
    params: ClassVar[tuple[Param, ...]] = ()
    lossless: ClassVar[bool] = False
    #: the parameter that sets the rate point of a family (``qp``, ``bits``), or None for single-point coders;
    #: sweeps, the report and the tests read it instead of coder names
    rate_param: ClassVar[str | None] = None
    #: rate points sort finest first when a larger value of rate_param means more bytes (``bits``), or when a
    #: smaller value does (``qp``: False)
    rate_increases_size: ClassVar[bool] = True
    #: whether the size of a bitstream depends on the values coded (entropy coding, zlib, a video codec) or on
    #: the tensor's shape alone (raw, float16, int8): across platforms, where inferred tensors differ in their
    #: last bits, only the former may change size
    size_depends_on_values: ClassVar[bool] = True

    def __init__(self, **values: Any) -> None:
        known = {p.name: p for p in self.params}
        unknown = sorted(set(values) - set(known))
        if unknown:
            raise ValueError(f"coder {self.name!r}: unknown parameter(s) {', '.join(unknown)}; "
                             f"allowed: {_allowed_keys(type(self))}")
        self.values: dict[str, Any] = {}
        for param in self.params:
            value = values.get(param.name, param.default)
            # validate programmatic values the same way as spec strings
            self.values[param.name] = param.parse(self.name, param.format(value))

    @property
    def spec(self) -> str:
        """Canonical spec string: every parameter, in declared order."""
        if not self.params:
            return self.name
        return self.name + ":" + ",".join(f"{p.name}={p.format(self.values[p.name])}" for p in self.params)

    def __repr__(self) -> str:
        return f"<coder {self.spec}>"

    @property
    def is_lossless(self) -> bool:
        """True when decoding gives back the input exactly (a parameter may decide, e.g. HEVC lossless=1)."""
        return self.lossless

    @property
    def rate(self) -> Any:
        """The value of the rate parameter (None for single-point coders)."""
        return self.values[self.rate_param] if self.rate_param else None

    @property
    def family(self) -> str:
        """The canonical spec without the rate parameter: the rate points of one curve share it."""
        kept = [p for p in self.params if p.name != self.rate_param]
        if not kept:
            return self.name
        return self.name + ":" + ",".join(f"{p.name}={p.format(self.values[p.name])}" for p in kept)

    @property
    def label(self) -> str:
        """Short label for tables and legends: ``nncodec qp=-26``, ``qlayer bits=8``, ``fp16``."""
        if not self.rate_param:
            return self.name
        return f"{self.name} {self.rate_param}={self.values[self.rate_param]}"

    def rate_sort_key(self) -> tuple[str, float]:
        """Orders a family's rate points from most to fewest bytes (numerically, not as text)."""
        value = float(self.rate) if self.rate is not None else 0.0
        return (self.family, -value if self.rate_increases_size else value)

    @abstractmethod
    def encode_array(self, array: np.ndarray) -> bytes:
        """Payload of one finite float32 C-contiguous array."""

    @abstractmethod
    def decode_array(self, payload: bytes, shape: tuple[int, ...]) -> np.ndarray:
        """float32 array of ``shape`` from a payload; raise BitstreamError if the payload is malformed."""

    def estimated_bytes(self, tensors: Mapping[str, np.ndarray]) -> float | None:
        """The rate the coder's own entropy model predicts for ``tensors`` (bytes, fractional), for coders that
        have one (the learnt coders: -Σ log2 p(ŷ) / 8); None for the others."""
        return None

    def encode(self, tensors: Mapping[str, np.ndarray]) -> bytes:
        entries = []
        for name, array in validate_tensors(tensors).items():
            dtype = array.dtype.name
            if dtype in EXACT_DTYPES:
                payload = array.tobytes()
            else:
                payload = self.encode_tensor(name, array)
            entries.append(TensorEntry(name, dtype, tuple(array.shape), payload))
        return pack(self.spec, entries)

    def encode_tensor(self, name: str, array: np.ndarray) -> bytes:
        """Hook for per-tensor checks that need the name (e.g. fp16 range); codes ``array`` as float32."""
        return self.encode_array(array.astype("<f4", order="C", copy=False))

    def decode(self, data: bytes) -> dict[str, np.ndarray]:
        spec, entries = unpack(data)
        if spec != self.spec:
            raise BitstreamError(f"bitstream was written by coder {spec!r}, not {self.spec!r}; "
                                 "use harness.coders.decode_any to decode with the coder it names")
        return self.decode_entries(entries)

    def decode_entries(self, entries: list[TensorEntry]) -> dict[str, np.ndarray]:
        tensors = {}
        for entry in entries:
            if entry.dtype in EXACT_DTYPES:
                dtype = np.dtype(entry.dtype).newbyteorder("<")
                if len(entry.payload) != entry.size * dtype.itemsize:
                    raise BitstreamError(f"corrupt payload of tensor {entry.name!r}: {len(entry.payload)} bytes "
                                         f"for {entry.size} {entry.dtype} values")
                array = np.frombuffer(entry.payload, dtype=dtype).reshape(entry.shape)
            else:
                # asarray: numpy arithmetic on a 0-d array returns a scalar, which onnxruntime refuses as a feed
                array = np.asarray(self.decode_array(entry.payload, entry.shape))
                if array.shape != entry.shape or array.dtype != np.float32:
                    raise BitstreamError(f"coder {self.spec!r} decoded tensor {entry.name!r} as {array.dtype} "
                                         f"{array.shape}, container says float32 {entry.shape}")
            tensors[entry.name] = array.astype(entry.dtype, copy=True)  # native, writable, input dtype
        return tensors


CODERS: Registry[type[Coder]] = Registry("coder")


def _allowed_keys(cls: type[Coder]) -> str:
    return ", ".join(f"{p.name}=<{p.allowed()}>" for p in cls.params) or "none"


def parse_spec(spec: str) -> tuple[str, dict[str, str]]:
    """Split ``name[:key=value[,key=value...]]`` into the name and raw string values (not yet checked)."""
    if not isinstance(spec, str) or not spec.strip():
        raise ValueError(f"empty coder spec; expected name[:key=value,...], one of: {', '.join(CODERS.names())}")
    name, colon, rest = spec.strip().partition(":")
    values: dict[str, str] = {}
    if rest.strip():
        for item in rest.split(","):
            key, sep, value = (part.strip() for part in item.partition("="))
            if not sep or not key or not value:
                raise ValueError(f"coder spec {spec!r}: {item.strip()!r} is not key=value")
            if key in values:
                raise ValueError(f"coder spec {spec!r}: parameter {key!r} given twice")
            values[key] = value
    elif colon:
        raise ValueError(f"coder spec {spec!r}: nothing after ':'; expected key=value pairs")
    return name.strip(), values


def coder_class(name: str) -> type[Coder]:
    try:
        return CODERS.get(name)
    except RegistryError as exc:
        raise ValueError(str(exc)) from None


def make_coder(spec: str) -> Coder:
    """A configured coder from its spec string, e.g. ``make_coder("qlayer:bits=10,lossless=png")``."""
    name, raw_values = parse_spec(spec)
    cls = coder_class(name)
    params = {p.name: p for p in cls.params}
    unknown = sorted(set(raw_values) - set(params))
    if unknown:
        raise ValueError(f"coder {name!r}: unknown parameter(s) {', '.join(unknown)}; allowed: {_allowed_keys(cls)}")
    return cls(**{key: params[key].parse(name, text) for key, text in raw_values.items()})


def decode_any(data: bytes) -> dict[str, np.ndarray]:
    """Decode a container with the coder named inside it."""
    spec, entries = unpack(data)
    try:
        coder = make_coder(spec)
    except ValueError as exc:
        raise BitstreamError(f"container names coder {spec!r}, which this build cannot decode: {exc}") from None
    if coder.spec != spec:
        raise BitstreamError(f"container coder spec {spec!r} is not canonical (expected {coder.spec!r})")
    return coder.decode_entries(entries)


def container_spec(data: bytes) -> str:
    """The coder spec recorded in a container (verified)."""
    return unpack(data)[0]
