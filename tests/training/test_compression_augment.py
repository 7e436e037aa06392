"""Compression-augmented fine-tuning of part 2 (seed 002 §3.3): the torch model is the shipped ONNX file, the
features are coded where the split engine cuts and exactly as the suite's coder codes them, part 1 does not move,
runs resume to the same weights, and the shipped fine-tuned model keeps the default part 1 bit for bit."""
from __future__ import annotations

import hashlib
import json

import numpy as np
import onnx
import pytest
import torch
from onnx import numpy_helper

from harness.assetstore.paths import asset_path
from harness.coders import make_coder
from harness.datasets.synthetic_shapes import NUM_CLASSES
from training.compression_augment import (
    SEED_002_CODERS, CompressionAugmentation, draw_coders, find_cut_module,
)
from harness.detection.ssd.ssd_small import ssd_from_onnx
from harness.runtime import make_session
from harness.split import SplitPlanner, split_model

SPLIT = 90
ONNX_PATH, CAT_PATH = asset_path("ssd_small"), asset_path(f"ssd_small_cat{SPLIT}")


def _probe(seed: int, count: int = 1) -> torch.Tensor:
    return torch.randn(count, 3, 128, 128, generator=torch.Generator().manual_seed(seed))


@pytest.fixture(scope="module")
def shipped_torch():
    torch.set_num_threads(1)
    return ssd_from_onnx(str(ONNX_PATH), NUM_CLASSES)


def test_the_folded_torch_model_is_the_shipped_onnx(shipped_torch, train_script, tmp_path):
    x = _probe(1)
    with torch.no_grad():
        torch_out = [t.numpy() for t in shipped_torch(x)]
    onnx_out = make_session(ONNX_PATH.read_bytes()).run(None, {"image": x.numpy()})
    for a, b in zip(torch_out, onnx_out):
        np.testing.assert_allclose(a, b, atol=1e-4, rtol=1e-4)
    # re-exported: the same nodes in the same order (split indices mean the same) and the same weights bit for bit
    again = tmp_path / "again.onnx"
    train_script.export_onnx(shipped_torch, again)
    shipped, exported = onnx.load(str(ONNX_PATH)).graph, onnx.load(str(again)).graph
    assert [(n.name, n.op_type) for n in shipped.node] == [(n.name, n.op_type) for n in exported.node]
    shipped_w, exported_w = _weights(onnx.load(str(ONNX_PATH))), _weights(onnx.load(str(again)))
    assert len(shipped_w) == len(exported_w) == 122  # weight and bias of 61 convolutions
    assert all(np.array_equal(a, b) for a, b in zip(shipped_w, exported_w))


def test_the_coded_tensor_is_the_split_engines_cut(shipped_torch):
    cut = find_cut_module(shipped_torch, ONNX_PATH, SPLIT, _probe(0))
    plan = SplitPlanner(onnx.load(str(ONNX_PATH))).plan(SPLIT)
    assert cut.module_name == "feature_extractor.feature_extractor.6.4" and [cut.tensor_name] == plan.cut_names
    assert len(cut.part1) + len(cut.part2) == 61  # every convolution on exactly one side
    # on another input, the module's output is what the split engine's part 1 sends
    part1, _ = split_model(onnx.load(str(ONNX_PATH)), plan)
    x = _probe(7)
    (sent,) = make_session(part1.SerializeToString()).run(None, {"image": x.numpy()})
    seen = {}
    module = dict(shipped_torch.named_modules())[cut.module_name]
    handle = module.register_forward_hook(lambda m, i, o: seen.setdefault("out", o.clone()))
    with torch.no_grad():
        shipped_torch(x)
    handle.remove()
    np.testing.assert_allclose(seen["out"].numpy(), sent, atol=1e-4, rtol=1e-4)


@pytest.mark.parametrize("split, says", [(70, "cuts 2 tensors"), (10, "falls inside a module")])
def test_splits_that_cannot_be_trained_are_refused(shipped_torch, split, says):
    with pytest.raises(ValueError, match=says) as info:
        find_cut_module(shipped_torch, ONNX_PATH, split, _probe(0))
    assert f"split {split}" in str(info.value)


def test_draws_are_seeded_per_step_and_cover_every_coder():
    specs = [make_coder(s).spec for s in SEED_002_CODERS]
    assert draw_coders(specs, 0, 5, 32) == draw_coders(specs, 0, 5, 32)
    assert draw_coders(specs, 0, 5, 32) != draw_coders(specs, 0, 6, 32)
    assert draw_coders(specs, 0, 5, 32) != draw_coders(specs, 1, 5, 32)
    drawn = [s for step in range(20) for s in draw_coders(specs, 0, step, 8)]
    counts = [drawn.count(s) for s in specs]
    assert min(counts) > 0.1 * len(drawn)  # uniform over the five: each near 20 %


def test_part2_reads_the_decoded_features_of_the_drawn_coder(shipped_torch):
    cut = find_cut_module(shipped_torch, ONNX_PATH, SPLIT, _probe(0))
    model = ssd_from_onnx(str(ONNX_PATH), NUM_CLASSES)
    augmentation = CompressionAugmentation(cut, SEED_002_CODERS, seed=3)
    augmentation.attach(model)
    augmentation.step = 11
    seen = {}
    dict(model.named_modules())[cut.module_name].register_forward_hook(  # runs after the coding hook
        lambda m, i, o: seen.setdefault("out", o.clone()))
    x = _probe(2, count=3)
    clean = {}
    handle = dict(shipped_torch.named_modules())[cut.module_name].register_forward_hook(
        lambda m, i, o: clean.setdefault("out", o.clone()))
    with torch.no_grad():
        model(x)
        shipped_torch(x)
    handle.remove()
    assert augmentation.drawn == draw_coders(augmentation.specs, 3, 11, 3)
    for i, spec in enumerate(augmentation.drawn):
        coder = make_coder(spec)
        stream = coder.encode({cut.tensor_name: clean["out"][i:i + 1].numpy()})
        expected = coder.decode(stream)[cut.tensor_name]
        assert np.array_equal(seen["out"][i:i + 1].numpy(), expected), spec
        assert augmentation.coded_bytes[i] == len(stream)


def _fine_tune(train_script, steps: int, **kwargs):
    return train_script.train(steps, batch_size=2, lr=1e-3, warmup=1, log_every=0, data_offset=4800,
                              init_onnx=ONNX_PATH, augment_split=SPLIT, log=lambda m: None, **kwargs)


def test_fine_tuning_moves_part2_only_and_resumes_to_the_same_weights(train_script, shipped_torch, tmp_path):
    torch.set_num_threads(1)
    full, full_losses, info = _fine_tune(train_script, 3, checkpoint=None)
    assert info["compression_augmentation"]["split"] == SPLIT
    cut = find_cut_module(shipped_torch, ONNX_PATH, SPLIT, _probe(0))
    before, after = dict(shipped_torch.named_modules()), dict(full.named_modules())
    for name in cut.part1:
        assert torch.equal(before[name].weight, after[name].weight), name
    assert any(not torch.equal(before[name].weight, after[name].weight) for name in cut.part2)
    ckpt = tmp_path / "cat.pt"
    _fine_tune(train_script, 3, checkpoint=ckpt, max_minutes=0)  # stops after one step
    assert torch.load(ckpt, weights_only=False)["step"] == 1
    resumed, resumed_losses, _ = _fine_tune(train_script, 3, checkpoint=ckpt, resume=True)
    assert resumed_losses == full_losses
    for (name, a), b in zip(full.state_dict().items(), resumed.state_dict().values()):
        assert torch.equal(a, b), name
    with pytest.raises(ValueError, match="other settings"):
        train_script.train(3, batch_size=2, lr=1e-3, warmup=1, log_every=0, checkpoint=ckpt, resume=True,
                           init_onnx=ONNX_PATH, augment_split=SPLIT, augment_coders=SEED_002_CODERS[:2],
                           log=lambda m: None)


@pytest.fixture(scope="module")
def shipped_cat():
    if not CAT_PATH.is_file():
        pytest.fail(f"{CAT_PATH} missing (a committed asset): run scripts/train_ssd_small.py --finetune-part2-at {SPLIT}")
    return CAT_PATH


def test_the_shipped_fine_tuned_model_keeps_part1_bit_for_bit(shipped_cat):
    digest = hashlib.md5(shipped_cat.read_bytes()).hexdigest()
    assert shipped_cat.with_name(f"{shipped_cat.name}.md5").read_text().split()[0] == digest
    meta = json.loads(shipped_cat.with_suffix(".json").read_text())
    augmentation = meta["training"]["compression_augmentation"]
    assert augmentation["split"] == SPLIT
    assert augmentation["coders"] == [make_coder(s).spec for s in SEED_002_CODERS]
    assert meta["training"]["init_onnx"]["md5"] == hashlib.md5(ONNX_PATH.read_bytes()).hexdigest()
    plan = SplitPlanner(onnx.load(str(ONNX_PATH))).plan(SPLIT)
    default_part1, default_part2 = split_model(onnx.load(str(ONNX_PATH)), plan)
    cat_part1, cat_part2 = split_model(onnx.load(str(shipped_cat)), plan)
    default_w, cat_w = _weights(default_part1), _weights(cat_part1)
    assert len(default_w) == len(cat_w) and all(np.array_equal(a, b) for a, b in zip(default_w, cat_w))
    assert [n.op_type for n in default_part1.graph.node] == [n.op_type for n in cat_part1.graph.node]
    # ... and part 2 is another one: the fine-tuning changed it
    assert not all(np.array_equal(a, b) for a, b in zip(_weights(default_part2), _weights(cat_part2)))


def _weights(model: onnx.ModelProto) -> list[np.ndarray]:
    """The initializers the nodes read, in node order (names differ between exports; order and values do not)."""
    values = {init.name: numpy_helper.to_array(init) for init in model.graph.initializer}
    return [values[name] for node in model.graph.node for name in node.input if name in values]


def test_the_script_refuses_a_split_it_cannot_train_and_writes_nothing(train_script, tmp_path):
    out, checkpoint = tmp_path / "cat70.onnx", tmp_path / "cat70.pt"
    with pytest.raises(SystemExit) as info:
        train_script.main(["--finetune-part2-at", "70", "--steps", "1", "--out", str(out),
                           "--checkpoint", str(checkpoint)])
    assert str(info.value).startswith("error: split 70 of ssd_small.onnx cuts 2 tensors")
    assert not out.exists() and not checkpoint.exists() and not out.with_suffix(".json").exists()


def test_recorded_sizes_of_both_part2s_are_the_same_bytes(shipped_cat):
    """The same part 1 sends the same features: every coder at the split gives the fine-tuned model exactly the
    default's coded bytes (the recorded references of both, cross-checked), only the accuracy differs."""
    from harness.references import load_references

    cells = load_references()["ssd"]
    prefix = {model: f"{model}/shapes50_selected/cpu/split{SPLIT}/" for model in ("ssd_small", "ssd_small_cat90")}
    fine_tuned = {key[len(prefix["ssd_small_cat90"]):]: v for key, v in cells.items()
                  if key.startswith(prefix["ssd_small_cat90"])}
    if not fine_tuned:
        pytest.skip("no ssd_small_cat90 references recorded")
    for coder, metrics in fine_tuned.items():
        default = cells[prefix["ssd_small"] + coder]
        assert metrics["compressed_bytes"] == default["compressed_bytes"], coder


def test_coding_on_a_process_pool_gives_the_inline_result(shipped_torch):
    from concurrent.futures import ProcessPoolExecutor
    from multiprocessing import get_context

    cut = find_cut_module(shipped_torch, ONNX_PATH, SPLIT, _probe(0))
    features = torch.relu(torch.randn(4, 96, 32, 32, generator=torch.Generator().manual_seed(5)))
    inline = CompressionAugmentation(cut, SEED_002_CODERS, seed=1)
    inline.step = 9
    expected = inline._code(None, (), features)
    with ProcessPoolExecutor(1, mp_context=get_context("spawn")) as pool:  # one spawn: the start-up dominates
        pooled = CompressionAugmentation(cut, SEED_002_CODERS, seed=1, pool=pool)
        pooled.step = 9
        got = pooled._code(None, (), features)
    assert torch.equal(expected, got) and pooled.coded_bytes == inline.coded_bytes
    assert pooled.drawn == inline.drawn and len(set(inline.drawn)) > 1
