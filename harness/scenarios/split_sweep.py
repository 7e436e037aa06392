"""Scenario ``split_sweep`` (seed 001 §10.3.5-10.3.7; marker ``split_sweep``): where a split of a detector pays
off. Also the base of scenario ``posenet`` (harness.scenarios.posenet), which adds pose decoding.

Cells (matrix/split_sweep.yaml): model x device x configuration x coder. Configurations are layer
configurations ``k`` (harness.split.layers: 0 = input sent, N = outputs sent) and seed 000's node-index split
points (``n<index>``, the cuts of matrix/ssd.yaml, so that these rows join the ssd scenario's accuracy rows on
model, split and coder). Part 1 runs on the ``device`` latency profile, part 2 on ``network`` (CUDA with
``--device cuda``), both from matrix/latency_profiles.yaml.

Gated: the layer count, part model sizes, intermediate and coded bytes, and ``lossless`` (split on decoded data
vs unsplit, max |diff| < 0.001). Recorded, not gated: every latency KPI, the end-to-end latency per uplink
bandwidth (``e2e_ms_<bw>``), the part-1 model download time; harness.report.sweep_plots rebuilds the
best-configuration table and the plots from these rows.
"""
from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any, Mapping

import numpy as np

from harness.coders import make_coder
from harness.runtime import cuda_unavailable_reason
from harness.split.profiles import LatencyProfile, load_profile_file
from harness.scenarios import SCENARIOS
from harness.scenarios.base import Cell, CellOutcome, Metric, RunContext, Scenario
from harness.split.delivery import download_ms, transmission_ms
from harness.split.sweep import ConfigResult, SplitSweep

SIZE_METRICS = ("layers", "part1_model_bytes", "part2_model_bytes", "intermediate_bytes", "coded_bytes")


@SCENARIOS.register("split_sweep")
class SplitSweepScenario(Scenario):
    description = "split-point sweep: sizes, device/network latency and 5G delivery per configuration"
    metrics = (*(Metric(name, "count" if name == "layers" else "bytes") for name in SIZE_METRICS),
               Metric("lossless", "bool", higher_is_better=True),
               Metric("max_abs_diff", "abs", higher_is_better=False, gates=False),
               Metric("part1_ms", "ms", gates=False), Metric("part2_ms", "ms", gates=False))
    matrix_keys = {
        "models": "list of {name, model, source: built|asset|user, layers, configs: all|[k...], node_splits_from, "
                  "coders, repeat} (coders and repeat override the matrix's for that model)",
        "coders": "coder specs of the cut tensors",
        "inputs": "{count, seed}: seeded inputs of the model's input shape",
        "repeat": "steady-state repetitions per part (median, p90)",
    }
    required_matrix_keys = ("models", "coders", "repeat")

    def __init__(self, matrix: Mapping[str, Any], context: RunContext) -> None:
        super().__init__(matrix, context)
        self.coders = [make_coder(spec).spec for spec in matrix["coders"]]
        self.delivery = load_profile_file()
        self._sweeps: dict[tuple[str, str], SplitSweep] = {}
        self._results: dict[tuple[str, str, Any], ConfigResult] = {}

    # --- cells ---------------------------------------------------------------------------------------
    def model_entries(self) -> dict[str, Mapping[str, Any]]:
        return {entry.get("name", entry["model"]): entry for entry in self.matrix["models"]}

    def config_labels(self, entry: Mapping[str, Any]) -> list[Any]:
        layers = int(entry["layers"])
        configs = entry.get("configs", "all")
        labels: list[Any] = list(range(layers + 1)) if configs == "all" else [int(k) for k in configs]
        if entry.get("node_splits_from"):
            from harness.matrix import load_matrix

            labels += [f"n{index}" for index in load_matrix(entry["node_splits_from"])["splits"]]
        return labels

    def model_coders(self, name: str) -> list[str]:
        entry = self.model_entries()[name]
        return [make_coder(spec).spec for spec in entry["coders"]] if "coders" in entry else self.coders

    def cells(self) -> list[Cell]:
        return [Cell(self.name, (("model_name", name), ("device", device), ("split", label), ("coder_name", coder)))
                for name, entry in self.model_entries().items() for device in self.context.devices
                for label in self.config_labels(entry) for coder in self.model_coders(name)]

    # --- models, profiles, inputs --------------------------------------------------------------------
    def model_path(self, entry: Mapping[str, Any]) -> Path:
        from harness.models import model_file

        # a built model's input size is a build option (PoseNet 16 n + 1); a file's size is its own
        options = {"size": int(entry["size"])} if "size" in entry and entry.get("source", "built") == "built" else {}
        return model_file(entry["model"], entry.get("source", "built"), self.context.data_dir, **options)

    def missing_reason(self, cell: Cell) -> str | None:
        try:
            self.model_path(self.model_entries()[cell["model_name"]])
        except FileNotFoundError as exc:
            return str(exc)
        return None

    def profiles(self, device: str) -> tuple[LatencyProfile, LatencyProfile]:
        """Part 1 on ``device``; part 2 on ``network``, forced to CUDA for ``--device cuda`` and to the CPU
        for ``--device cpu`` so that a cpu cell is a cpu cell on a GPU host too."""
        profiles = self.delivery["profiles"]
        network = profiles["network"]
        if device == "cuda" and (reason := cuda_unavailable_reason()):
            raise RuntimeError(reason)
        return profiles["device"], replace(network, providers=(device,))

    def inputs(self, entry: Mapping[str, Any], path: Path) -> list[dict[str, np.ndarray]]:
        """Seeded inputs of the model's declared shapes, or, where its graph leaves them symbolic (a member's
        export), of the shapes its catalogue entry declares (``input_shape`` in references/assets.yaml)."""
        from harness.models import model_input_shapes, model_name
        from harness.split import SplitPlanner
        from harness.split.inputs import InputError, resolve_shapes, seeded_feeds

        spec = self.matrix.get("inputs") or {}
        planner = SplitPlanner(path)
        declared = model_input_shapes(model_name(entry["model"], entry.get("source", "built")))
        shapes = resolve_shapes(planner, declared, "input_shape of references/assets.yaml") if declared else None
        try:
            return seeded_feeds(planner, int(spec.get("count", 1)), int(spec.get("seed", 0)), shapes)
        except InputError as exc:
            raise InputError(f"{path}: {exc}; for the matrices, declare the model's input_shape in its entry of "
                             "references/assets.yaml") from None

    def sweep(self, name: str, device: str) -> SplitSweep:
        if (name, device) not in self._sweeps:
            entry = self.model_entries()[name]
            path = self.model_path(entry)
            device_profile, network_profile = self.profiles(device)
            self._sweeps[(name, device)] = SplitSweep(path, self.inputs(entry, path), device_profile,
                                                      network_profile, int(entry.get("repeat", self.matrix["repeat"])))
        return self._sweeps[(name, device)]

    def result(self, cell: Cell) -> ConfigResult:
        key = (cell["model_name"], cell["device"], cell["split"])
        if key not in self._results:
            sweep = self.sweep(cell["model_name"], cell["device"])
            label = cell["split"]
            config = sweep.splitter.node_config(int(label[1:])) if isinstance(label, str) \
                else sweep.splitter.config(label)
            self._results[key] = sweep.measure(config, self.model_coders(cell["model_name"]))
        return self._results[key]

    # --- outcome -------------------------------------------------------------------------------------
    def run_cell(self, cell: Cell) -> CellOutcome:
        sweep = self.sweep(cell["model_name"], cell["device"])
        result = self.result(cell)
        coded = result.coded[cell["coder_name"]]
        row = result.row(cell["coder_name"])
        metrics = {"layers": sweep.layers, **{key: row[key] for key in SIZE_METRICS[1:]},
                   "lossless": bool(coded.lossless), "max_abs_diff": coded.max_abs_diff,
                   "part1_ms": row["part1_ms"], "part2_ms": row["part2_ms"]}
        return CellOutcome(metrics, {**self.columns(sweep, result, cell["coder_name"]), **metrics})

    def columns(self, sweep: SplitSweep, result: ConfigResult, coder: str) -> dict[str, Any]:
        """Results columns: identity of the configuration, every KPI, delivery per bandwidth."""
        delivery = self.delivery["delivery"]
        coded, cost = result.coded[coder], result.cost(coder)
        columns: dict[str, Any] = {
            "k": result.config.k, "boundary": result.config.boundary,
            "cut_tensors": ";".join(f"{t['name']}:{'x'.join(map(str, t['shape']))}:{t['dtype']}:{t['bytes']}"
                                    for t in result.cut_tensors),
            "rec_size": coded.coded_bytes, "anc_size": result.intermediate_bytes,
            "part1_sha256": result.part1_sha256, "part2_input_sha256": coded.part2_input_sha256,
            "device_profile": sweep.device.label(), "network_profile": sweep.network.label(),
            "device_slowdown": sweep.device.slowdown, "encode_ms": coded.encode_ms, "decode_ms": coded.decode_ms,
            "part1_model_download_ms": download_ms(result.part1_model_bytes, float(delivery["downlink_mbps"])),
            "downlink_mbps": float(delivery["downlink_mbps"]), "rtt_ms": float(delivery.get("rtt_ms", 0)),
        }
        for part, timing in (("part1", result.part1), ("part2", result.part2)):
            for field in ("init_ms", "first_ms", "median_ms", "p90_ms", "init_peak_bytes", "peak_bytes"):
                columns[f"{part}_{field}"] = getattr(timing, field)
        for bandwidth in delivery["uplink_mbps"]:
            send = transmission_ms(cost.sent_bytes, float(bandwidth), float(delivery.get("rtt_ms", 0)))
            columns[f"e2e_ms_{bandwidth:g}"] = cost.part1_ms + cost.encode_ms + send + cost.decode_ms + cost.part2_ms
        return columns

    def sizes_follow_inference(self, cell: Cell) -> bool:
        return make_coder(cell["coder_name"]).size_depends_on_values

    def check_cell(self, cell: Cell, outcome: CellOutcome) -> None:
        metrics = outcome.metrics
        # independent of the engine's bookkeeping: a coder spec's container holds at least the raw payload
        # (raw) or is smaller (fp16 halves floats); a lossless coder must leave split inference lossless
        if make_coder(cell["coder_name"]).is_lossless:
            assert metrics["lossless"], f"{cell.id}: lossless coder, yet split vs unsplit differ by " \
                                        f"{metrics['max_abs_diff']}"
        if cell["coder_name"] == "raw":
            assert metrics["coded_bytes"] >= metrics["intermediate_bytes"], "raw container smaller than its data"
        expected = self.model_entries()[cell["model_name"]].get("layers")
        assert metrics["layers"] == int(expected), f"{cell['model_name']}: {metrics['layers']} layers, " \
                                                   f"matrix says {expected}"
