"""``learnt`` and ``learnt-scalable``: seed 003's learnt feature coders (CompressAI entropy models, rANS bytes).

    learnt:prior=hyper,nr=16,lambda=0.02            learnt-scalable:nr=8,lambda=0.08,layers=2

Networks: :mod:`harness.coders.learnt_nets`; weights: the shipped bundle (:mod:`harness.coders.learnt_bundle`),
trained by ``scripts/train_feature_codecs.py`` for one cut tensor, which the coder finds by the tensor's name
and shape (a tensor it was not trained for is refused). ``lambda`` picks the rate point among the trained ones.

Payload of one float tensor (little endian), after the container's tensor entry:

    digest      16 bytes   md5 of the weights that wrote it (learnt_bundle.weights_digest), checked on decode
    layers      u8         latent layers that follow (1 for ``learnt``; ``layers`` for the scalable coder)
    per layer:  u8 strings (1: entropy bottleneck; 2: y then z of the hyperprior), 2 x u16 latent h, w
                (of y), 2 x u16 hyper h, w (0, 0 without a hyperprior), then per batch item and string:
                u32 length + CompressAI's range-coded bytes

The scalable stream is ordered by layer, so the first l layers of a stream are a stream of its own:
:func:`truncate_layers` cuts one after l layers and gives the bytes a direct encode with ``layers=l`` writes.

Determinism: the transforms and the range coder run on CPU in one torch thread (CompressAI's known failure is
decoding on another device or kernel than the one that encoded: the indexes of the Gaussian scales are taken
from floating-point convolutions, so both sides must compute them alike); the entropy tables are the integer
CDFs shipped in the bundle, not rebuilt here.
"""
from __future__ import annotations

import struct
from contextlib import contextmanager
from typing import Any, Iterator

import numpy as np

from harness.coders.base import CODERS, Coder, Param
from harness.coders.container import BitstreamError
from harness.coders import learnt_bundle
from harness.torch_cpu import torch_threads

#: the trained rate points (scripts/train_feature_codecs.py --lambdas)
LAMBDAS = ("0.005", "0.02", "0.08", "0.32")
SCALABLE_LAMBDAS = ("0.08",)
MAX_LAYERS = 4
_LAYER = struct.Struct("<BHHHH")
_LEN = struct.Struct("<I")


@contextmanager
def torch_cpu_single_thread() -> Iterator[Any]:
    """Run torch on CPU in one intra-op thread without gradients (harness.torch_cpu): the same bytes in any
    process."""
    with torch_threads(1) as torch, torch.no_grad():
        yield torch


def _load_state(net: Any, state: dict) -> Any:
    """Load a state dict whose entropy-table buffers were sized by ``update()`` (empty in a fresh module); the
    Gaussian conditionals' tables the bundle leaves out (learnt_bundle.REBUILT_BUFFERS) are rebuilt from the
    fixed scale table, the entropy bottlenecks' learnt ones are loaded as shipped."""
    from compressai.entropy_models import GaussianConditional

    from harness.coders.learnt_bundle import REBUILT_BUFFERS
    from harness.coders.learnt_nets import scale_table

    buffers = dict(net.named_buffers())
    for name, value in state.items():
        if name in buffers and buffers[name].shape != value.shape:
            owner, _, leaf = name.rpartition(".")
            module = net.get_submodule(owner) if owner else net
            module._buffers[leaf] = value.clone()
    result = net.load_state_dict(state, strict=False)
    missing = [k for k in result.missing_keys if not k.endswith(REBUILT_BUFFERS)]
    if missing or result.unexpected_keys:
        raise ValueError(f"learnt coder weights do not fit the network: missing {missing[:3]}, unexpected "
                         f"{result.unexpected_keys[:3]}")
    for module in net.modules():
        if isinstance(module, GaussianConditional) and (module._quantized_cdf.numel() == 0 or
                                                        any(k.endswith(REBUILT_BUFFERS) for k in result.missing_keys)):
            module.update_scale_table(scale_table(), force=True)
    return net.eval()


def pack_layers(digest: str, layers: list[tuple[list[list[bytes]], tuple[int, int], tuple[int, int]]]) -> bytes:
    """Payload from per layer (strings per item, latent hw, hyper hw); ``strings[item][k]``."""
    out = [bytes.fromhex(digest), bytes([len(layers)])]
    for per_item, latent, hyper in layers:
        out.append(_LAYER.pack(len(per_item[0]), *latent, *hyper))
        for strings in per_item:
            for string in strings:
                out += [_LEN.pack(len(string)), string]
    return b"".join(out)


def unpack_layers(payload: bytes, batch: int) -> tuple[str, list[tuple[list[list[bytes]], tuple, tuple]]]:
    """Inverse of :func:`pack_layers`; BitstreamError on any truncation or trailing bytes."""
    view, pos = memoryview(payload), 17
    if len(payload) < 17:
        raise BitstreamError(f"learnt payload of {len(payload)} bytes is shorter than its 17-byte header")
    digest, count = payload[:16].hex(), payload[16]
    layers = []
    for _ in range(count):
        if pos + _LAYER.size > len(payload):
            raise BitstreamError("learnt payload truncated inside a layer header")
        strings_per_item, lh, lw, hh, hw = _LAYER.unpack_from(view, pos)
        pos += _LAYER.size
        per_item = []
        for _ in range(batch):
            strings = []
            for _ in range(strings_per_item):
                if pos + 4 > len(payload):
                    raise BitstreamError("learnt payload truncated inside a string length")
                (length,) = _LEN.unpack_from(view, pos)
                if pos + 4 + length > len(payload):
                    raise BitstreamError(f"learnt payload truncated: a string of {length} bytes runs past the end")
                strings.append(bytes(view[pos + 4:pos + 4 + length]))
                pos += 4 + length
            per_item.append(strings)
        layers.append((per_item, (lh, lw), (hh, hw)))
    if pos != len(payload):
        raise BitstreamError(f"learnt payload has {len(payload) - pos} trailing bytes")
    return digest, layers


def _shape_of(latent: tuple[int, int], hyper: tuple[int, int]) -> Any:
    return {"y": latent, "hyper": hyper} if hyper != (0, 0) else latent


def _hw(shape: Any) -> tuple[tuple[int, int], tuple[int, int]]:
    if isinstance(shape, dict):
        return tuple(int(v) for v in shape["y"]), tuple(int(v) for v in shape["hyper"])
    return tuple(int(v) for v in shape), (0, 0)


class FeatureMapCoder(Coder):
    """A coder trained or calibrated for one named (N, C, H, W) cut tensor (learnt, learnt-scalable, pca): it
    finds its weights by the tensor's name, so it codes through ``encode()``, never a bare array."""

    def encode_array(self, array: np.ndarray) -> bytes:
        raise TypeError(f"coder {self.spec!r} codes a tensor it was trained for: call encode() with its name")

    def require_feature_map(self, name: str, array: np.ndarray) -> None:
        if array.ndim != 4:
            raise ValueError(f"coder {self.spec!r}: tensor {name!r} has shape {array.shape}; it codes an "
                             "(N, C, H, W) feature map")


class _LearntBase(FeatureMapCoder):
    """What both learnt coders share: the variant's weights, the digest check, the bit estimate."""

    size_depends_on_values = True
    _nets: dict[tuple[str, str], Any] = {}

    def family_key(self) -> str:
        raise NotImplementedError

    def build(self, variant: dict, channels: int) -> Any:
        raise NotImplementedError

    def net(self, tensor: str | None, shape: tuple[int, ...]) -> tuple[Any, dict]:
        variant = learnt_bundle.variant(self.family_key(), tensor, shape)
        key = (self.family_key(), variant["digest"])
        if key not in self._nets:
            with torch_cpu_single_thread():
                self._nets[key] = _load_state(self.build(variant, shape[1]), variant["state_dict"])
        return self._nets[key], variant

    def encode_tensor(self, name: str, array: np.ndarray) -> bytes:
        self.require_feature_map(name, array)
        net, variant = self.net(name, array.shape)
        with torch_cpu_single_thread() as torch:
            x = torch.from_numpy(np.array(array, dtype=np.float32, copy=True))
            layers = self.compress(net, x)
        return pack_layers(variant["digest"], layers)

    def decode_array(self, payload: bytes, shape: tuple[int, ...]) -> np.ndarray:
        if len(shape) != 4:
            raise BitstreamError(f"learnt coder: container shape {shape} is not (N, C, H, W)")
        net, variant = self.net(None, shape)
        digest, layers = unpack_layers(payload, shape[0])
        if digest != variant["digest"]:
            raise BitstreamError(f"bitstream was written with weights {digest}, this decoder has {self.family_key()} "
                                 f"weights {variant['digest']}: decode with the weights that encoded it")
        self.check_layers(len(layers))
        with torch_cpu_single_thread():
            out = self.decompress(net, layers)
        return np.ascontiguousarray(out[..., :shape[2], :shape[3]].numpy(), dtype=np.float32)

    def check_layers(self, count: int) -> None:
        if count != 1:
            raise BitstreamError(f"coder {self.spec!r}: {count} latent layers in the payload, expected 1")

    def estimated_bytes(self, tensors: dict[str, np.ndarray]) -> float | None:
        """The entropy model's own rate, -Σ log2 p(ŷ) / 8 over the coded latents (eval-mode rounding), for
        comparison with the bytes written (container and headers excluded)."""
        from harness.coders.learnt_nets import rate_bits

        bits = 0.0
        for name, array in tensors.items():
            if not np.issubdtype(array.dtype, np.floating):
                continue
            net, _ = self.net(name, array.shape)
            with torch_cpu_single_thread() as torch:
                bits += float(self.likelihood_bits(net, torch.from_numpy(np.array(array, np.float32, copy=True)),
                                                   rate_bits))
        return bits / 8


def _compress_one(codec: Any, y: Any) -> tuple[list[list[bytes]], tuple, tuple]:
    out = codec.compress(y)
    strings = out["strings"]  # one list per string kind, each with one entry per batch item
    per_item = [[kind[i] for kind in strings] for i in range(len(strings[0]))]
    return (per_item, *_hw(out["shape"]))


def _decompress_one(codec: Any, per_item: list[list[bytes]], latent: tuple, hyper: tuple) -> Any:
    strings = [[item[k] for item in per_item] for k in range(len(per_item[0]))]
    return codec.decompress(strings, _shape_of(latent, hyper))["y_hat"]


@CODERS.register("learnt")
class LearntCoder(_LearntBase):
    name = "learnt"
    rate_param = "lambda"
    params = (
        Param("prior", str, "hyper", choices=("factorized", "hyper"),
              help="entropy model: factorized (Ballé 2016) or scale hyperprior (Ballé 2018)"),
        Param("nr", int, 16, low=1, high=1024, help="latent channels N_r after the reduction"),
        Param("lambda", str, "0.02", choices=LAMBDAS, help="rate-task trade-off the weights were trained for"),
    )

    def family_key(self) -> str:
        return learnt_bundle.variant_key("learnt", prior=self.values["prior"], nr=self.values["nr"],
                                         lam=float(self.values["lambda"]))

    def build(self, variant: dict, channels: int) -> Any:
        from harness.coders.learnt_nets import FeatureCodecNet
        return FeatureCodecNet(channels, variant["nr"], variant["prior"])

    def compress(self, net: Any, x: Any) -> list:
        return [_compress_one(net.latent, net.g_a(x))]

    def decompress(self, net: Any, layers: list) -> Any:
        ((per_item, latent, hyper),) = layers
        return net.g_s(_decompress_one(net.latent, per_item, latent, hyper))

    def likelihood_bits(self, net: Any, x: Any, rate_bits: Any) -> Any:
        return rate_bits(list(net.latent(net.g_a(x))["likelihoods"].values()))


@CODERS.register("learnt-scalable")
class ScalableLearntCoder(_LearntBase):
    name = "learnt-scalable"
    rate_param = "layers"
    params = (
        Param("nr", int, 8, low=1, high=1024, help="latent channels per layer"),
        Param("lambda", str, "0.08", choices=SCALABLE_LAMBDAS, help="rate-task trade-off of the training"),
        Param("layers", int, MAX_LAYERS, low=1, high=MAX_LAYERS, help="layers sent (the rest are dropped)"),
    )

    def family_key(self) -> str:
        return learnt_bundle.variant_key("learnt-scalable", nr=self.values["nr"], lam=float(self.values["lambda"]))

    def build(self, variant: dict, channels: int) -> Any:
        from harness.coders.learnt_nets import ScalableFeatureCodecNet
        return ScalableFeatureCodecNet(channels, variant["nr"], variant["layers"])

    def compress(self, net: Any, x: Any) -> list:
        latents = net.split_layers(x)[:self.values["layers"]]
        return [_compress_one(codec, y) for y, codec in zip(latents, net.latents)]

    def decompress(self, net: Any, layers: list) -> Any:
        import torch

        total = 0
        for (per_item, latent, hyper), codec, g_s in zip(layers, net.latents, net.g_s):
            total = total + g_s(_decompress_one(codec, per_item, latent, hyper))
        return torch.relu(total)

    def check_layers(self, count: int) -> None:
        if count != self.values["layers"]:
            raise BitstreamError(f"coder {self.spec!r}: {count} layers in the payload, the spec says "
                                 f"{self.values['layers']}")

    def truncate_payload(self, payload: bytes, shape: tuple[int, ...], layers: int) -> bytes:
        """The payload of the first ``layers`` layers (see :func:`truncate_layers`)."""
        digest, coded = unpack_layers(payload, shape[0])
        return pack_layers(digest, coded[:layers])

    def likelihood_bits(self, net: Any, x: Any, rate_bits: Any) -> Any:
        latents = net.split_layers(x)[:self.values["layers"]]
        return sum(rate_bits(list(codec(y)["likelihoods"].values())) for y, codec in zip(latents, net.latents))


def truncate_layers(data: bytes, layers: int) -> bytes:
    """A ``learnt-scalable`` or ``pca`` container cut after its first ``layers`` layers: the container a
    direct encode with ``layers=<layers>`` writes (the server decodes what it has received)."""
    from harness.coders.base import make_coder
    from harness.coders.container import TensorEntry, pack, unpack

    spec, entries = unpack(data)
    coder = make_coder(spec)
    if coder.rate_param != "layers":
        raise ValueError(f"container of coder {spec!r} is not layered; truncate_layers cuts learnt-scalable and pca")
    if not 1 <= layers <= coder.values["layers"]:
        raise ValueError(f"cannot keep {layers} of {coder.values['layers']} layers")
    target = type(coder)(**{**coder.values, "layers": layers})
    kept = []
    for entry in entries:
        if entry.dtype in ("float32", "float16"):
            payload = coder.truncate_payload(entry.payload, entry.shape, layers)
            entry = TensorEntry(entry.name, entry.dtype, entry.shape, payload)
        kept.append(entry)
    return pack(target.spec, kept)

