"""The learnt feature coders of seed 003 (``learnt``, ``learnt-scalable``, ``pca``) on the cut they were trained for.

Independent checks: CompressAI's own ``decompress`` of the range-coded strings gives what the coder decodes;
the bytes written are the strings' bytes plus the documented headers; a stream cut after l layers is the
stream a direct encode of l layers writes; more PCA layers reconstruct better and all layers beat one at the task;
more lambda never writes fewer bytes; the entropy model's estimate is within a few percent of the bytes the
range coder writes; PCA recovers known principal directions. Damaged or foreign streams are refused.
"""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from harness.coders import BitstreamError, decode_any, make_coder
from harness.coders import learnt_bundle
from harness.coders.container import pack, unpack
from harness.coders.learnt import LAMBDAS, pack_layers, torch_cpu_single_thread, truncate_layers, unpack_layers

REPO = Path(__file__).resolve().parents[2]
SPLIT = 90
HYPER16 = [f"learnt:prior=hyper,nr=16,lambda={lam}" for lam in LAMBDAS]


@pytest.fixture(scope="module")
def cut() -> tuple[str, np.ndarray]:
    """(name, features) of split 90 of the shipped ssd_small on 3 held-out generated images (batch of 3)."""
    from harness.datasets.synthetic_shapes import EVAL_SEED, generate_sample
    from harness.detection.ssd.preprocess import preprocess
    from harness.split import FeatureExtractor

    extractor = FeatureExtractor(REPO / "harness/assets/ssd_small.onnx", [SPLIT])
    images = [preprocess(generate_sample(EVAL_SEED, i).image[None]) for i in range(3)]
    per_image = [extractor.run({"image": image})[SPLIT] for image in images]
    (name,) = per_image[0]
    return name, np.concatenate([features[name] for features in per_image])


def test_bundle_is_for_this_cut(cut) -> None:
    name, features = cut
    bundle = learnt_bundle.load_bundle()
    assert bundle["tensor"] == name and tuple(bundle["shape"]) == features.shape[1:]
    assert bundle["split"] == SPLIT
    import hashlib
    assert bundle["detector_md5"] == hashlib.md5((REPO / "harness/assets/ssd_small.onnx").read_bytes()).hexdigest()
    for key, variant in bundle["variants"].items():
        assert variant["digest"] == learnt_bundle.weights_digest(variant), key


@pytest.mark.parametrize("spec", [*HYPER16, "learnt:prior=factorized,nr=16,lambda=0.08"])
def test_decode_equals_compressai_decompress(cut, spec) -> None:
    """The coder's decode is CompressAI's decompress of the strings it wrote, and the bytes written are those
    strings plus the documented headers."""
    name, features = cut
    coder = make_coder(spec)
    data = coder.encode({name: features})
    got_spec, (entry,) = unpack(data)
    assert got_spec == coder.spec
    digest, layers = unpack_layers(entry.payload, len(features))
    ((per_item, latent, hyper),) = layers
    strings = [s for item in per_item for s in item]
    assert len(entry.payload) == 16 + 1 + 9 + sum(4 + len(s) for s in strings)
    net, _ = coder.net(name, features.shape)
    with torch_cpu_single_thread():
        shape = {"y": latent, "hyper": hyper} if hyper != (0, 0) else latent
        kinds = [[item[k] for item in per_item] for k in range(len(per_item[0]))]
        y_hat = net.latent.decompress(kinds, shape)["y_hat"]
        expected = net.g_s(y_hat).numpy()
    np.testing.assert_array_equal(decode_any(data)[name], expected)


def test_same_bytes_in_another_process(cut) -> None:
    """Bit-exact on any run and worker: a fresh interpreter writes the same bytes and decodes them alike."""
    name, features = cut
    spec = HYPER16[1]
    data = make_coder(spec).encode({name: features})
    assert make_coder(spec).encode({name: features}) == data
    script = ("import sys, numpy as np; from harness.coders import make_coder, decode_any; "
              "x = np.load(sys.argv[1]); data = make_coder(sys.argv[2]).encode({sys.argv[3]: x}); "
              "sys.stdout.buffer.write(data)")
    tmp = REPO / ".cache" / "test_learnt_features.npy"
    tmp.parent.mkdir(exist_ok=True)
    np.save(tmp, features)
    other = subprocess.run([sys.executable, "-c", script, str(tmp), spec, name], capture_output=True, check=True,
                           cwd=REPO).stdout
    assert other == data


def test_more_lambda_more_bytes_better_features(cut) -> None:
    name, features = cut
    sizes, errors = [], []
    for spec in HYPER16:
        data = make_coder(spec).encode({name: features})
        sizes.append(len(data))
        errors.append(float(np.mean((decode_any(data)[name] - features) ** 2)))
    assert sizes == sorted(sizes) and len(set(sizes)) == len(sizes), sizes
    assert errors[-1] < errors[0], errors


@pytest.mark.parametrize("spec", [HYPER16[0], HYPER16[-1], "learnt-scalable:nr=8,lambda=0.08,layers=4"])
def test_estimated_rate_close_to_bytes_written(cut, spec) -> None:
    """-Σ log2 p(ŷ) of the entropy model against the range coder's strings (headers excluded): within 3 % and
    a few bytes per string (rANS' flush)."""
    name, features = cut
    coder = make_coder(spec)
    (entry,) = unpack(coder.encode({name: features}))[1]
    _, layers = unpack_layers(entry.payload, len(features))
    strings = [s for per_item, _, _ in layers for item in per_item for s in item]
    written = sum(len(s) for s in strings)
    estimated = coder.estimated_bytes({name: features})
    assert abs(written - estimated) <= 0.03 * estimated + 8 * len(strings), (written, estimated)


@pytest.fixture(scope="module")
def part2_nmse(cut):
    """features -> NMSE of part 2's outputs on them against part 2's outputs on the original cut (split 90)."""
    from harness.runtime import make_session
    from harness.split import SplitPlanner, split_model

    name, features = cut
    planner = SplitPlanner(str(REPO / "harness/assets/ssd_small.onnx"))
    _, part2 = split_model(planner.model, planner.plan(index=SPLIT))
    session = make_session(part2.SerializeToString())

    def outputs(x: np.ndarray) -> list[np.ndarray]:
        return [np.concatenate(per) for per in zip(*(session.run(None, {name: x[i:i + 1]}) for i in range(len(x))))]

    reference = outputs(features)

    def nmse(decoded: np.ndarray) -> float:
        got = outputs(decoded)
        return float(sum(((g - r) ** 2).sum() for g, r in zip(got, reference)) / sum((r ** 2).sum() for r in reference))
    return nmse


@pytest.mark.parametrize("family", ["learnt-scalable:nr=8,lambda=0.08", "pca:components=4,bits=8,refine=1",
                                    "pca:components=4,bits=8,refine=0"])
def test_stream_cut_after_l_layers_is_the_l_layer_stream(cut, part2_nmse, family) -> None:
    """The first l layers of a 4-layer stream are the stream a direct l-layer encode writes, byte for byte; every
    layer costs bytes. What a layer buys is judged by what each family was trained or built for: the PCA
    reconstruction's feature error falls with every layer (more principal directions), the task-trained coders'
    part-2 outputs come closer to the anchor's with all layers than with one."""
    name, features = cut
    full = make_coder(f"{family},layers=4").encode({name: features})
    sizes, feature_errors, output_errors = [], [], []
    for layers in (1, 2, 3, 4):
        direct = make_coder(f"{family},layers={layers}").encode({name: features})
        assert truncate_layers(full, layers) == direct
        decoded = decode_any(direct)[name]
        sizes.append(len(direct))
        feature_errors.append(float(np.mean((decoded - features) ** 2)))
        output_errors.append(part2_nmse(decoded))
    assert sizes == sorted(sizes) and len(set(sizes)) == 4, sizes
    if family.endswith("refine=0"):
        assert feature_errors == sorted(feature_errors, reverse=True), feature_errors
    assert output_errors[-1] < output_errors[0], output_errors


def test_pca_recovers_known_directions() -> None:
    """Channel vectors spread along known orthogonal axes with known variances: pca_basis finds the axes in
    order of variance (up to sign, which it fixes)."""
    rng = np.random.default_rng(5)
    axes = np.linalg.qr(rng.normal(size=(12, 12)))[0][:, :3].T  # 3 orthonormal directions in 12 channels
    scores = rng.normal(size=(4000, 3)) * np.array([5.0, 2.0, 0.5])
    vectors = scores @ axes + 3.0
    features = vectors.reshape(10, 20, 20, 12).transpose(0, 3, 1, 2).astype(np.float32)
    mean, basis = learnt_bundle.pca_basis(features, 3)
    np.testing.assert_allclose(mean, 3.0, atol=0.2)
    np.testing.assert_allclose(np.abs(basis @ axes.T), np.eye(3), atol=0.02)


def test_refuses_a_tensor_it_was_not_trained_for(cut) -> None:
    name, features = cut
    with pytest.raises(ValueError, match="no weights for tensor .*train others with scripts/train_feature_codecs"):
        make_coder(HYPER16[0]).encode({"other": features})
    with pytest.raises(ValueError, match="no weights for tensor"):
        make_coder(HYPER16[0]).encode({name: features[:, :64]})
    with pytest.raises(ValueError, match="allowed: 0.005"):
        make_coder("learnt:prior=hyper,nr=16,lambda=0.5")


def test_foreign_weights_are_refused(cut) -> None:
    """A stream whose weights digest is not the decoder's (retrained weights) is refused, naming both."""
    name, features = cut
    coder = make_coder(HYPER16[1])
    spec, (entry,) = unpack(coder.encode({name: features}))
    digest, layers = unpack_layers(entry.payload, len(features))
    forged = pack(spec, [type(entry)(entry.name, entry.dtype, entry.shape, pack_layers("0" * 32, layers))])
    with pytest.raises(BitstreamError, match="written with weights 0{32}"):
        decode_any(forged)


@settings(max_examples=25, deadline=None)
@given(cut_at=st.integers(min_value=0, max_value=10_000), flip=st.integers(min_value=0, max_value=7))
def test_damaged_streams_raise(cut, cut_at, flip) -> None:
    name, features = cut
    data = make_coder(HYPER16[0]).encode({name: features[:1]})
    with pytest.raises(BitstreamError):
        decode_any(data[:cut_at % len(data)])
    position = cut_at % len(data)
    flipped = bytearray(data)
    flipped[position] ^= 1 << flip
    with pytest.raises(BitstreamError):
        decode_any(bytes(flipped))


def test_inconsistent_payloads_raise(cut) -> None:
    """Payloads whose CRC is intact but whose structure is not (crafted): BitstreamError before CompressAI."""
    name, features = cut
    coder = make_coder(HYPER16[0])
    spec, (entry,) = unpack(coder.encode({name: features[:1]}))
    for payload in (entry.payload[:10], entry.payload + b"x", entry.payload[:-3]):
        crafted = pack(spec, [type(entry)(entry.name, entry.dtype, entry.shape, payload)])
        with pytest.raises(BitstreamError):
            decode_any(crafted)
    scalable = make_coder("learnt-scalable:nr=8,lambda=0.08,layers=2")
    spec2, (entry2,) = unpack(scalable.encode({name: features[:1]}))
    three = make_coder("learnt-scalable:nr=8,lambda=0.08,layers=3").spec
    with pytest.raises(BitstreamError, match="2 layers in the payload, the spec says 3"):
        decode_any(pack(three, [entry2]))
