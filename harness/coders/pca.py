"""``pca``: seed 003's PCA layers of a feature map, with an optional learnt 1x1 convolution after them.

    pca:components=4,bits=8,refine=0,layers=2

The channel vector at every position of the cut feature map is projected on the principal directions of the
calibration features (``scripts/train_feature_codecs.py``: the same images' features as the learnt coders',
mean and basis in the shipped bundle, :func:`harness.coders.learnt_bundle.pca_basis`). Layer l holds the
coefficients of directions l*k .. l*k+k-1 (``components`` = k); ``layers`` of them are sent, so a stream cut
after l layers (:func:`harness.coders.learnt.truncate_layers`) decodes to the reconstruction from l layers.
Each layer's coefficients go through seed 002's min-max Q-layer (``bits``) and zlib (level 9): the generic
lossless stage, where the learnt coders have a trained entropy model. ``refine=1`` applies the 1x1
convolution (+ ReLU) trained for the number of layers received; ``refine=0`` the plain PCA reconstruction
(clipped at 0, as the ReLU features it stands for).

Payload: digest (16 bytes, the PCA variant's weights), u8 layers, then per layer ``min, max`` (2 x float32)
and u32 length + the zlib bytes of the (N, H, W, k) quantised coefficients (uint8, or uint16 LE above 8 bits).
"""
from __future__ import annotations

import struct
import zlib

import numpy as np

from harness.coders import learnt_bundle
from harness.coders.base import CODERS, Coder, Param
from harness.coders.container import BitstreamError
from harness.coders.learnt import MAX_LAYERS, FeatureMapCoder, torch_cpu_single_thread
from harness.coders.qlayer import dequantise, quantise, sample_dtype

_LAYER = struct.Struct("<ffI")


@CODERS.register("pca")
class PcaCoder(FeatureMapCoder):
    name = "pca"
    rate_param = "layers"
    size_depends_on_values = True
    params = (
        Param("components", int, 4, low=1, high=64, help="principal directions per layer (as trained)"),
        Param("bits", int, 8, low=2, high=16, help="Q-layer bits of the coefficients"),
        Param("refine", bool, False, help="apply the learnt 1x1 convolution after the reconstruction"),
        Param("layers", int, MAX_LAYERS, low=1, high=MAX_LAYERS, help="layers sent"),
    )

    def family_key(self) -> str:
        return learnt_bundle.variant_key("pca", components=self.values["components"])

    def variant(self, tensor: str | None, shape: tuple[int, ...]) -> dict:
        variant = learnt_bundle.variant(self.family_key(), tensor, shape)
        if self.values["layers"] > variant["layers"]:
            raise ValueError(f"coder {self.spec!r}: the bundle's PCA has {variant['layers']} layers")
        return variant

    def encode_tensor(self, name: str, array: np.ndarray) -> bytes:
        self.require_feature_map(name, array)
        variant = self.variant(name, array.shape)
        k, bits = self.values["components"], self.values["bits"]
        vectors = array.astype(np.float32).transpose(0, 2, 3, 1) - variant["mean"]
        coefficients = vectors @ variant["basis"][:k * self.values["layers"]].T  # (N, H, W, K)
        out = [bytes.fromhex(variant["digest"]), bytes([self.values["layers"]])]
        for layer in range(self.values["layers"]):
            lo, hi, q = quantise(np.ascontiguousarray(coefficients[..., layer * k:(layer + 1) * k]), bits)
            stream = zlib.compress(q.astype(sample_dtype(bits).newbyteorder("<")).tobytes(), 9)
            out += [_LAYER.pack(lo, hi, len(stream)), stream]
        return b"".join(out)

    def truncate_payload(self, payload: bytes, shape: tuple[int, ...], layers: int) -> bytes:
        digest, parts = self._layers(payload)
        return bytes.fromhex(digest) + bytes([layers]) + b"".join(raw for _, _, _, raw in parts[:layers])

    def _layers(self, payload: bytes) -> tuple[str, list[tuple[float, float, bytes, bytes]]]:
        if len(payload) < 17:
            raise BitstreamError(f"pca payload of {len(payload)} bytes is shorter than its 17-byte header")
        pos, parts = 17, []
        for _ in range(payload[16]):
            if pos + _LAYER.size > len(payload):
                raise BitstreamError("pca payload truncated inside a layer header")
            lo, hi, length = _LAYER.unpack_from(payload, pos)
            end = pos + _LAYER.size + length
            if end > len(payload):
                raise BitstreamError(f"pca payload truncated: a layer of {length} bytes runs past the end")
            parts.append((lo, hi, payload[pos + _LAYER.size:end], payload[pos:end]))
            pos = end
        if pos != len(payload):
            raise BitstreamError(f"pca payload has {len(payload) - pos} trailing bytes")
        return payload[:16].hex(), parts

    def decode_array(self, payload: bytes, shape: tuple[int, ...]) -> np.ndarray:
        if len(shape) != 4:
            raise BitstreamError(f"pca coder: container shape {shape} is not (N, C, H, W)")
        variant = self.variant(None, shape)
        digest, parts = self._layers(payload)
        if digest != variant["digest"]:
            raise BitstreamError(f"bitstream was written with PCA weights {digest}, this decoder has "
                                 f"{variant['digest']}: decode with the weights that encoded it")
        if len(parts) != self.values["layers"]:
            raise BitstreamError(f"coder {self.spec!r}: {len(parts)} layers in the payload, the spec says "
                                 f"{self.values['layers']}")
        n, _, h, w = shape
        k, bits = self.values["components"], self.values["bits"]
        dtype = sample_dtype(bits).newbyteorder("<")
        coefficients = []
        for lo, hi, stream, _ in parts:
            try:
                raw = zlib.decompress(stream)
            except zlib.error as exc:
                raise BitstreamError(f"pca layer is not a zlib stream: {exc}") from None
            if len(raw) != n * h * w * k * dtype.itemsize:
                raise BitstreamError(f"pca layer holds {len(raw)} bytes for {n}x{h}x{w}x{k} coefficients")
            q = np.frombuffer(raw, dtype=dtype).reshape(n, h, w, k)
            coefficients.append(dequantise(q, lo, hi, bits).astype(np.float32))
        kept = variant["basis"][:k * len(parts)]
        recon = (np.concatenate(coefficients, axis=-1) @ kept + variant["mean"]).transpose(0, 3, 1, 2)
        if not self.values["refine"]:
            return np.ascontiguousarray(np.maximum(recon, 0), dtype=np.float32)
        return self._refine(variant, len(parts), recon)

    def _refine(self, variant: dict, layers: int, recon: np.ndarray) -> np.ndarray:
        refiner = variant["refiners"][layers]
        with torch_cpu_single_thread() as torch:
            weight, bias = refiner["state_dict"]["0.weight"], refiner["state_dict"]["0.bias"]
            out = torch.relu(torch.nn.functional.conv2d(torch.from_numpy(np.ascontiguousarray(recon)), weight, bias))
        return np.ascontiguousarray(out.numpy(), dtype=np.float32)
