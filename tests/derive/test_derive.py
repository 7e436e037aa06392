"""Deriving a device model: INT8 quantization (onnxruntime's quantizer) and global magnitude pruning
(torch.nn.utils.prune), through the commands a member runs; figures counted from the written files."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import numpy_helper

from harness.cli import main
from harness.derive import model_figures, weight_names
from harness.detection.detectors import DETECTORS

pytestmark = pytest.mark.derive
REPO_ASSETS = Path(__file__).resolve().parents[2] / "harness" / "assets"


@pytest.fixture(scope="module")
def detector():
    return DETECTORS.get("ssd_small")(None)


@pytest.fixture(scope="module")
def calibration(detector, tmp_path_factory) -> Path:
    from harness.datasets.synthetic_shapes import generate_sample

    folder = tmp_path_factory.mktemp("calibration")
    for i in range(4):
        np.savez(folder / f"{i:02d}.npz", **detector.preprocess(generate_sample(7, i).image))
    return folder


def run_json(capsys, *argv: str) -> dict:
    assert main(list(argv)) == 0, capsys.readouterr()
    return json.loads(capsys.readouterr().out)


def test_static_quantization_is_deterministic_and_int8(detector, calibration, capsys, tmp_path) -> None:
    first = run_json(capsys, "quantize", str(detector.onnx_path), "--out", str(tmp_path / "a.onnx"),
                     "--calibration", str(calibration), "--json")
    run_json(capsys, "quantize", str(detector.onnx_path), "--out", str(tmp_path / "b.onnx"),
             "--calibration", str(calibration), "--json")
    assert (tmp_path / "a.onnx").read_bytes() == (tmp_path / "b.onnx").read_bytes()  # same images, same bytes
    assert first["file_bytes"] == (tmp_path / "a.onnx").stat().st_size < 0.5 * detector.onnx_path.stat().st_size
    model = onnx.load(str(tmp_path / "a.onnx"))
    int8 = [i for i in model.graph.initializer if i.data_type == onnx.TensorProto.INT8]
    assert first["quantized_nodes"] > 0 and len(int8) >= len(weight_names(onnx.load(str(detector.onnx_path))))


def test_op_types_keep_everything_but_the_convolutions_in_float(capsys, tmp_path) -> None:
    """``--op-types Conv`` (the derive scenario's choice for retinanet_small, whose box decoding, top-k and NMS
    are in the graph): every quantized tensor feeds a Conv, and nothing outside the convolutions is quantized."""
    from harness.datasets.synthetic_shapes import generate_sample

    detector = DETECTORS.get("retinanet_small")(None)
    folder = tmp_path / "calibration"
    folder.mkdir()
    for i in range(2):
        np.savez(folder / f"{i:02d}.npz", **detector.preprocess(generate_sample(7, i).image))
    run_json(capsys, "quantize", str(detector.onnx_path), "--out", str(tmp_path / "conv.onnx"),
             "--calibration", str(folder), "--op-types", "Conv", "--json")
    graph = onnx.load(str(tmp_path / "conv.onnx")).graph
    producer = {out: node.op_type for node in graph.node for out in node.output}
    consumers: dict[str, set[str]] = {}
    for node in graph.node:
        for name in node.input:
            consumers.setdefault(name, set()).add(node.op_type)
    dequantize_of = {n.input[0]: n.output[0] for n in graph.node if n.op_type == "DequantizeLinear"}
    # each quantized activation is a Conv's output or an input a Conv reads (its QDQ pair's output feeds a Conv)
    activations = [n for n in graph.node if n.op_type == "QuantizeLinear"]
    assert activations
    for node in activations:
        source, dequantized = node.input[0], dequantize_of[node.output[0]]
        assert producer.get(source) == "Conv" or "Conv" in consumers.get(dequantized, set()), source
    assert sum(producer.get(n.input[0]) == "Conv" for n in activations) == \
        sum(n.op_type == "Conv" for n in onnx.load(str(detector.onnx_path)).graph.node)  # every Conv output
    with pytest.raises(SystemExit) as refused:  # argparse refuses an empty list, naming the option
        main(["quantize", str(detector.onnx_path), "--out", str(tmp_path / "x.onnx"), "--mode", "dynamic",
              "--op-types", ","])
    assert refused.value.code == 2
    assert "--op-types" in capsys.readouterr().err and not (tmp_path / "x.onnx").exists()


def test_network_outputs_are_the_last_convolutions_of_each_head(tmp_path) -> None:
    """The tensors a detector's in-graph post-processing starts from: RetinaNet's class and box convolutions on
    each of its 5 FPN levels (P3-P7), SSD's loc and conf convolutions on each of its feature maps; a toy graph
    Conv -> Relu -> Conv -> Reshape gives its second Conv's output."""
    from onnx import TensorProto, helper

    from harness.derive.quantize import network_outputs

    retinanet = network_outputs(DETECTORS.get("retinanet_small")(None).onnx_path)
    assert len(retinanet) == 2 * 5 and sum("cls_logits" in name for name in retinanet) == 5
    ssd = DETECTORS.get("ssd_small")(None)
    maps = len(ssd.head.boxes_config.feat_size)
    ssd_outputs = network_outputs(ssd.onnx_path)
    assert len(ssd_outputs) == 2 * maps and sum("/conf." in name for name in ssd_outputs) == maps

    weight = numpy_helper.from_array(np.ones((1, 1, 1, 1), np.float32), "w")
    shape = numpy_helper.from_array(np.asarray([-1], np.int64), "shape")
    graph = helper.make_graph(
        [helper.make_node("Conv", ["x", "w"], ["a"]), helper.make_node("Relu", ["a"], ["b"]),
         helper.make_node("Conv", ["b", "w"], ["c"]), helper.make_node("Reshape", ["c", "shape"], ["y"])],
        "toy", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 1, 2, 2])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [4])], [weight, shape])
    onnx.save(helper.make_model(graph), str(tmp_path / "toy.onnx"))
    assert network_outputs(tmp_path / "toy.onnx") == ["c"]


@pytest.mark.parametrize("sparsity", [0.0, 0.3, 0.75])
def test_global_pruning_reaches_the_requested_sparsity_within_one_weight(detector, sparsity, capsys, tmp_path) -> None:
    out = tmp_path / "pruned.onnx"
    figures = run_json(capsys, "prune", str(detector.onnx_path), "--sparsity", str(sparsity), "--out", str(out),
                       "--json")
    model = onnx.load(str(out))
    arrays = {i.name: numpy_helper.to_array(i) for i in model.graph.initializer}
    weights = [arrays[name] for name in weight_names(model)]
    zeros, total = sum(int(np.sum(w == 0)) for w in weights), sum(w.size for w in weights)
    assert abs(zeros - sparsity * total) <= 1 and figures["sparsity"] == zeros / total
    if sparsity >= 0.3:  # global: the layers lose different shares of their weights
        shares = [float(np.mean(w == 0)) for w in weights]
        assert max(shares) - min(shares) > 0.2
        assert figures["zlib_bytes"] < model_figures(detector.onnx_path)["zlib_bytes"]  # sparse codes smaller


def test_structured_pruning_shrinks_the_graph(detector, capsys, tmp_path) -> None:
    """torch-pruning removes 30 % of every prunable layer's channels: the exported file has fewer, dense
    parameters (more than 30 % fewer), the same nodes and outputs of the same shapes on the same input."""
    from harness.runtime import make_session

    out = tmp_path / "structured.onnx"
    figures = run_json(capsys, "prune", str(detector.onnx_path), "--sparsity", "0.3", "--out", str(out),
                       "--structured", "--json")
    fp32 = model_figures(detector.onnx_path)
    assert figures["parameters"] < 0.7 * fp32["parameters"] and figures["file_bytes"] < 0.7 * fp32["file_bytes"]
    assert figures["sparsity"] < 0.01 and figures["nodes"] == fp32["nodes"]
    assert figures["torch_parameters_after"] == figures["parameters"]  # torch's count = the file's
    feed = {"image": np.zeros((1, 3, 128, 128), np.float32)}
    want = make_session(str(detector.onnx_path)).run(None, feed)
    got = make_session(str(out)).run(None, feed)
    assert [g.shape for g in got] == [w.shape for w in want]
    widths = {tuple(numpy_helper.to_array(i).shape) for i in onnx.load(str(out)).graph.initializer}
    assert widths != {tuple(numpy_helper.to_array(i).shape) for i in onnx.load(str(detector.onnx_path)).graph.initializer}


def test_fine_tuning_after_structured_pruning_trains_the_pruned_model(detector, tmp_path) -> None:
    """Two seeded steps of the builder's loss move the pruned weights (the same two steps give the same
    weights, whatever thread count the process had: an xdist worker inherits an earlier test's) and keep the
    pruned shapes; the derive cell with 300 steps is the nightly job's."""
    import torch

    from harness.derive.structured import prune_structured

    plain = prune_structured(detector.onnx_path, tmp_path / "plain.onnx", 0.3)
    threads = torch.get_num_threads()
    tuned = []
    try:
        for i, count in enumerate((2, 1)):
            torch.set_num_threads(count)
            tuned.append(prune_structured(detector.onnx_path, tmp_path / f"tuned{i}.onnx", 0.3, finetune_steps=2))
    finally:
        torch.set_num_threads(threads)
    assert tuned[0].details["finetune_steps"] == 2 and len(tuned[0].details["finetune_loss_first_last"]) == 2
    weights = [{i.name: numpy_helper.to_array(i) for i in onnx.load(str(d.path)).graph.initializer}
               for d in (plain, *tuned)]
    assert {k: v.shape for k, v in weights[0].items()} == {k: v.shape for k, v in weights[1].items()}
    assert any(not np.array_equal(weights[0][k], weights[1][k]) for k in weights[0])
    assert all(np.array_equal(weights[1][k], weights[2][k]) for k in weights[1])


def initializers(path: Path) -> dict[str, np.ndarray]:
    return {i.name: numpy_helper.to_array(i) for i in onnx.load(str(path)).graph.initializer}


def test_fine_tuning_resumed_from_its_checkpoint_reaches_the_uninterrupted_weights(detector, capsys, tmp_path) -> None:
    """Global pruning re-trained for 4 steps in one run, and for 2 then (another call, the checkpoint on disk) 4:
    the same bytes of weights; the zeros of the pruning survive the re-training (sparsity within one weight);
    a checkpoint of another recipe is refused naming the file."""
    source = str(detector.onnx_path)
    whole = run_json(capsys, "prune", source, "--sparsity", "0.5", "--out", str(tmp_path / "whole.onnx"),
                     "--finetune-steps", "4", "--json")
    checkpoint = tmp_path / "state.pt"
    run_json(capsys, "prune", source, "--sparsity", "0.5", "--out", str(tmp_path / "half.onnx"),
             "--finetune-steps", "2", "--checkpoint", str(checkpoint), "--json")
    resumed = run_json(capsys, "prune", source, "--sparsity", "0.5", "--out", str(tmp_path / "resumed.onnx"),
                       "--finetune-steps", "4", "--checkpoint", str(checkpoint), "--json")
    straight, continued, two_steps = (initializers(tmp_path / f"{n}.onnx") for n in ("whole", "resumed", "half"))
    assert straight.keys() == continued.keys()
    assert all(np.array_equal(straight[k], continued[k]) for k in straight)
    assert any(not np.array_equal(straight[k], two_steps[k]) for k in straight)  # 2 steps are not 4
    run_json(capsys, "prune", source, "--sparsity", "0.5", "--out", str(tmp_path / "untuned.onnx"), "--json")

    def weights(path: Path) -> dict[str, np.ndarray]:  # by the Conv's output (the re-export renames weights)
        model = onnx.load(str(path))
        arrays = {i.name: numpy_helper.to_array(i) for i in model.graph.initializer}
        return {n.output[0]: arrays[n.input[1]] for n in model.graph.node if n.op_type == "Conv"}

    tuned, untuned = weights(tmp_path / "whole.onnx"), weights(tmp_path / "untuned.onnx")
    assert tuned.keys() == untuned.keys()
    # the same weights pruned (the masks), then moved by the re-training
    assert all(np.array_equal(tuned[k] == 0, untuned[k] == 0) for k in tuned)
    assert any(not np.allclose(tuned[k], untuned[k]) for k in tuned)
    for figures in (whole, resumed):
        assert abs(figures["sparsity"] - 0.5) * figures["weights"] <= 1
    assert main(["prune", source, "--sparsity", "0.3", "--out", str(tmp_path / "other.onnx"),
                 "--finetune-steps", "4", "--checkpoint", str(checkpoint)]) == 1
    assert "written by another fine-tuning" in capsys.readouterr().err and not (tmp_path / "other.onnx").exists()


def test_simulated_weight_rounding_is_onnxruntimes_own(detector, calibration, capsys, tmp_path) -> None:
    """The quantization-aware re-training rounds each weight as onnxruntime's per-channel QInt8 QDQ does: the
    simulated weights equal the dequantized int8 weights of onnxruntime's static model of the same file; the
    simulation leaves the model as it found it (no parametrization, no hook, the same outputs)."""
    import torch

    from harness.derive.qat import simulated_quantization
    from harness.derive.torch_models import torch_model_for, weight_modules

    run_json(capsys, "quantize", str(detector.onnx_path), "--out", str(tmp_path / "q.onnx"),
             "--calibration", str(calibration), "--json")
    model = onnx.load(str(tmp_path / "q.onnx"))
    arrays = {i.name: numpy_helper.to_array(i) for i in model.graph.initializer}
    dequantized = set()
    for node in model.graph.node:  # weight DequantizeLinear: int8 x per-channel scale
        if node.op_type == "DequantizeLinear" and node.input[0] in arrays and arrays[node.input[0]].ndim == 4:
            scale = arrays[node.input[1]].reshape(-1, 1, 1, 1)
            dequantized.add((arrays[node.input[0]] * scale).astype(np.float32).tobytes())
    _, built = torch_model_for(detector.onnx_path)
    image = torch.from_numpy(next(iter(detector.preprocess(np.zeros((128, 128, 3), np.uint8)).values())))
    with torch.no_grad():
        before = [t.clone() for t in built.module(image)]
    feeds = [{"image": np.load(f)["image"]} for f in sorted(calibration.glob("*.npz"))]
    with simulated_quantization(built.module, feeds) as layers:
        simulated = [layer.weight.detach().numpy().astype(np.float32).tobytes() for layer in layers]
        assert len(layers) == len(weight_names(onnx.load(str(detector.onnx_path))))
        assert all(weight in dequantized for weight in simulated)  # bit for bit, every layer
    assert not any(hasattr(layer, "parametrizations") or hasattr(layer, "input_fake_quant")
                   for layer in weight_modules(built.module))
    with torch.no_grad():
        after = built.module(image)
    assert all(torch.equal(a, b) for a, b in zip(before, after))


def test_quantization_aware_fine_tuning_retrains_before_onnxruntime_quantizes(detector, calibration, capsys,
                                                                              tmp_path) -> None:
    """``quantize --finetune-steps 2``: an onnxruntime static QDQ file whose int8 weights differ from the plain
    static model's (the float weights were re-trained), the same bytes on a second run; refused in dynamic
    mode and on a model without a torch builder, writing nothing."""
    argv = ["quantize", str(detector.onnx_path), "--calibration", str(calibration), "--finetune-steps", "2", "--json"]
    first = run_json(capsys, *argv, "--out", str(tmp_path / "a.onnx"))
    run_json(capsys, *argv, "--out", str(tmp_path / "b.onnx"))
    run_json(capsys, "quantize", str(detector.onnx_path), "--calibration", str(calibration), "--json",
             "--out", str(tmp_path / "plain.onnx"))
    assert (tmp_path / "a.onnx").read_bytes() == (tmp_path / "b.onnx").read_bytes()
    assert first["quantized_nodes"] > 0 and first["method"] == "qdq-static"

    def int8(path: Path) -> list[np.ndarray]:
        return sorted((numpy_helper.to_array(i) for i in onnx.load(str(path)).graph.initializer
                       if i.data_type == onnx.TensorProto.INT8), key=lambda a: (a.shape, a.tobytes()))

    tuned, plain = int8(tmp_path / "a.onnx"), int8(tmp_path / "plain.onnx")
    assert len(tuned) == len(plain) and any(not np.array_equal(t, p) for t, p in zip(tuned, plain))
    # the re-trained float model kept beside (the derive scenario's reference for the integer model's outputs)
    from harness.derive.quantize import outputs_nmse, quantize

    feeds = [{"image": np.load(f)["image"]} for f in sorted(calibration.glob("*.npz"))]
    quantize(detector.onnx_path, tmp_path / "c.onnx", "static", feeds, finetune_steps=2,
             retrained_out=tmp_path / "float.onnx")
    assert (tmp_path / "c.onnx").read_bytes() == (tmp_path / "a.onnx").read_bytes()
    assert max(outputs_nmse(tmp_path / "float.onnx", tmp_path / "c.onnx", feeds)) <= 0.01
    out = tmp_path / "x.onnx"
    for extra, message in ((["--mode", "dynamic"], "use --mode static"),):
        assert main(["quantize", str(detector.onnx_path), "--out", str(out), "--finetune-steps", "2", *extra]) == 1
        assert message in capsys.readouterr().err and not out.exists()
    assert main(["quantize", str(REPO_ASSETS / "retinanet_small.onnx"), "--out", str(out), "--calibration",
                 str(calibration), "--finetune-steps", "2"]) == 1
    assert "needs the model's torch builder" in capsys.readouterr().err and not out.exists()
    # a checkpoint keeps the feeds its ranges started from: other calibration feeds are another re-training
    quantize(detector.onnx_path, tmp_path / "d.onnx", "static", feeds, finetune_steps=1,
             checkpoint=tmp_path / "qat.pt")
    with pytest.raises(ValueError, match="written by another fine-tuning"):
        quantize(detector.onnx_path, tmp_path / "e.onnx", "static", feeds[:2], finetune_steps=1,
                 checkpoint=tmp_path / "qat.pt")
    (tmp_path / "broken.pt").write_bytes(b"not a checkpoint")
    with pytest.raises(ValueError, match="cannot be read as a fine-tuning checkpoint"):
        quantize(detector.onnx_path, tmp_path / "f.onnx", "static", feeds, finetune_steps=1,
                 checkpoint=tmp_path / "broken.pt")
    assert not (tmp_path / "e.onnx").exists() and not (tmp_path / "f.onnx").exists()


def test_accuracy_aware_quantization_meets_its_bound(detector, calibration, capsys, tmp_path) -> None:
    """Plain static QDQ misses a bound of a third of its own outputs' NMSE; the accuracy-aware mode meets it by
    keeping nodes in float (counted again here from the written file, on the calibration feeds)."""
    from harness.cli.derive import calibration_feeds
    from harness.derive.quantize import output_nmse

    feeds = calibration_feeds(detector.onnx_path, calibration)
    plain = tmp_path / "plain.onnx"
    run_json(capsys, "quantize", str(detector.onnx_path), "--out", str(plain), "--calibration", str(calibration),
             "--json")
    bound = output_nmse(detector.onnx_path, plain, feeds) / 3
    aware = tmp_path / "aware.onnx"
    figures = run_json(capsys, "quantize", str(detector.onnx_path), "--out", str(aware), "--calibration",
                       str(calibration), "--accuracy-aware", str(bound), "--json")
    assert figures["method"] == "qdq-aware" and 0 < len(figures["float_nodes"]) < figures["nodes"]
    assert output_nmse(detector.onnx_path, aware, feeds) <= bound * 1.0001
    assert 0 < figures["quantized_nodes"] < model_figures(plain)["quantized_nodes"]


def test_split_sweep_with_a_derived_part1(detector, capsys, tmp_path) -> None:
    """sweep-splits --device-model: the derived part 1 (cut by names) before the FP32 part 2. The FP32 model as its
    own device model is the plain split (every cut lossless); a pruned device model loses accuracy at every cut
    with part 1 on the device, none where everything runs in the network (k = 0)."""
    pruned = tmp_path / "pruned.onnx"
    run_json(capsys, "prune", str(detector.onnx_path), "--sparsity", "0.5", "--out", str(pruned), "--json")
    common = [str(detector.onnx_path), "--repeat", "0", "--json"]
    itself = run_json(capsys, "sweep-splits", *common, "--device-model", str(detector.onnx_path))
    derived = run_json(capsys, "sweep-splits", *common, "--device-model", str(pruned))
    assert derived["device_model"] == str(pruned)
    # cut by names on the FP32 graph itself is the plain split: lossless at every configuration (seed 001's
    # 0.001; the device and network profiles' sessions differ in their last bits)
    assert all(r["lossless"] for r in itself["configs"])
    by_k = {r["k"]: r for r in derived["configs"]}
    assert by_k[0]["max_abs_diff"] == 0.0 and by_k[0]["lossless"]
    assert all(not r["lossless"] for k, r in by_k.items() if k > 0)
    assert {r["k"]: r["part2_model_bytes"] for r in derived["configs"]} == \
        {r["k"]: r["part2_model_bytes"] for r in itself["configs"]}  # the network's part 2 throughout


def test_bad_input_is_named_and_writes_nothing(detector, calibration, capsys, tmp_path) -> None:
    out = tmp_path / "x.onnx"
    (tmp_path / "not.onnx").write_text("not a model")
    cases = [
        (["quantize", str(tmp_path / "not.onnx"), "--out", str(out)], "is not a readable ONNX model"),
        (["quantize", str(detector.onnx_path), "--out", str(out)], "static quantization needs calibration data"),
        (["quantize", str(detector.onnx_path), "--out", str(out), "--calibration", str(tmp_path)], "holds no .npz"),
        (["prune", str(detector.onnx_path), "--sparsity", "1.0", "--out", str(out)], "give a fraction in [0, 1)"),
        (["quantize", str(detector.onnx_path), "--out", str(out), "--mode", "dynamic", "--accuracy-aware", "0.01"],
         "use --mode static"),
        (["prune", str(REPO_ASSETS / "retinanet_small.onnx"), "--sparsity", "0.3", "--out", str(out),
          "--finetune-steps", "5"], "--finetune-steps needs the model's torch builder"),
        (["prune", str(detector.onnx_path), "--sparsity", "0.3", "--out", str(out), "--checkpoint",
          str(tmp_path / "c.pt")], "give --finetune-steps N too"),
        (["prune", str(REPO_ASSETS / "retinanet_small.onnx"), "--sparsity", "0.3", "--out", str(out),
          "--structured"], "needs the model's torch builder"),
    ]
    for argv, message in cases:
        assert main(argv) == 1
        assert message in capsys.readouterr().err
        assert not out.exists()
    np.savez(tmp_path / "bad.npz", pixels=np.zeros((1, 3, 128, 128), np.float32))
    bad = tmp_path / "badcal"
    bad.mkdir()
    (tmp_path / "bad.npz").rename(bad / "bad.npz")
    assert main(["quantize", str(detector.onnx_path), "--out", str(out), "--calibration", str(bad)]) == 1
    assert "lacks image" in capsys.readouterr().err and not out.exists()


def test_size_task_on_a_built_model(tmp_path) -> None:
    """The ``size`` task (Faster R-CNN's cells, the nightly job's) on a small built model: the float and INT8
    files' figures from the files themselves, the int8 file about a quarter of the float one."""
    import torch

    from harness.models import MODELS
    from harness.scenarios.base import RunContext
    from harness.scenarios.derive import DeriveScenario

    path = tmp_path / "tiny.onnx"
    if "tiny_size_test" not in MODELS:
        @MODELS.register("tiny_size_test")
        def _tiny() -> Path:
            if not path.exists():
                torch.manual_seed(0)
                net = torch.nn.Sequential(torch.nn.Conv2d(3, 64, 3), torch.nn.ReLU(), torch.nn.Conv2d(64, 64, 3))
                torch.onnx.export(net.eval(), (torch.zeros(1, 3, 16, 16),), str(path), dynamo=False,
                                  input_names=["x"], output_names=["y"])
            return path
    matrix = {"models": {"tiny_size_test": {"task": "size", "data_set": "none", "methods": [
        {"method": "fp32", "level": 0}, {"method": "dynamic", "level": 0}]}},
        "quantized_output_nmse_max": 0.01, "aware_output_nmse_max": 0.002, "latency_repeat": 1}
    scenario = DeriveScenario(matrix, RunContext(results_dir=tmp_path))
    outcomes = {cell["method"]: (cell, scenario.run_cell(cell)) for cell in scenario.cells()}
    for cell, outcome in outcomes.values():
        scenario.check_cell(cell, outcome)
    fp32, dynamic = outcomes["fp32"][1].columns, outcomes["dynamic"][1].columns
    assert fp32["parameters"] == 3 * 64 * 9 + 64 + 64 * 64 * 9 + 64 and fp32["file_bytes"] == path.stat().st_size
    assert dynamic["quantized_nodes"] > 0 and dynamic["size_ratio_to_fp32"] < 0.3
    with pytest.raises(ValueError, match="not available for its task"):
        DeriveScenario({**matrix, "models": {"tiny_size_test": {**matrix["models"]["tiny_size_test"], "methods": [
            {"method": "qdq-static", "level": 16}]}}}, RunContext(results_dir=tmp_path))


def test_a_frame_selection_cuts_the_video_cells_and_names_them(tmp_path) -> None:
    """``--frames 0:4 --frame-stride 2``: the cells on video sequences run frames 0 and 2 and carry the
    selection as an axis (never meeting the whole sequence's references); still-image and ASR cells are the
    whole run's, with their ids unchanged."""
    from harness.matrix import scenario_matrix
    from harness.scenarios import SCENARIOS
    from harness.scenarios.base import RunContext

    scenario_class = SCENARIOS.get("derive")
    matrix = scenario_matrix(scenario_class)
    whole = {cell.id for cell in scenario_class(matrix, RunContext(results_dir=tmp_path)).cells()}
    part = scenario_class(matrix, RunContext(results_dir=tmp_path, frames=(0, 4), frame_stride=2))
    cells = part.cells()
    video = [cell for cell in cells if cell["data_set_name"].startswith("sfu-")]
    assert video and all(cell["frames"] == "0:4:2" for cell in video)
    still = [cell for cell in cells if not cell["data_set_name"].startswith("sfu-")]
    assert still and all(cell.get("frames") is None for cell in still)
    assert {cell.id for cell in still} <= whole and not {cell.id for cell in video} & whole

    plaza = next(cell for cell in video if cell["data_set_name"] == "sfu-G-ShapesPlaza" and cell["method"] == "fp32")
    _, dataset = part.detector_and_data(plaza)
    assert dataset.image_ids() == [1, 3]  # frames 0 and 2 (image id = frame number + 1)
    assert part.run_cell(plaza).columns["images"] == 2
