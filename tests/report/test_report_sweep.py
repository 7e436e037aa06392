"""Report sections of sweep scenarios and distributed runs: split-sweep figures (harness.report.sweep_plots through
the FIGURES registry) and the per-node throughput table of executor.json.

The sweep rows are made so that the best configuration is known without the suite's arithmetic: at 1 Mbit/s
the configuration that sends the fewest bytes wins (k = 3: 1 kB, 8 ms, against >= 60 ms for the others), at
10 Gbit/s the one with the least compute (k = 0: 20 ms in all).
"""
from __future__ import annotations

import base64
import io
import json
from pathlib import Path

import matplotlib.image
import pytest

from harness.report.figures import figures_for
from harness.report.html import build_report
from harness.report.load import load_results
from harness.results import write_results

from .runs import ENVIRONMENT
from .pagereader import parse

# k: (intermediate bytes, part 1 ms, part 2 ms); coded bytes = intermediate (raw) or half (fp16)
CONFIGS = {0: (150_000, 0.0, 20.0), 1: (600_000, 5.0, 20.0), 2: (300_000, 10.0, 15.0), 3: (1_000, 30.0, 0.5)}
BANDWIDTHS = (1, 10000)


def sweep_rows(scenario: str = "split_sweep", model: str = "toy") -> list[dict]:
    rows = []
    for coder, ratio in (("raw", 1.0), ("fp16", 0.5)):
        for k, (size, part1, part2) in CONFIGS.items():
            coded = int(size * ratio)
            row = {"test_id": f"tests/scenarios/test_cells.py::test_cell[{scenario}-{model}-cpu-split{k}-{coder}]",
                   "scenario_name": scenario, "model_name": model, "device": "cpu", "split": k, "coder_name": coder,
                   "layers": 3, "intermediate_bytes": size, "coded_bytes": coded, "part1_model_bytes": 1000 * k,
                   "part2_model_bytes": 1000 * (3 - k), "part1_ms": part1, "part2_ms": part2, "encode_ms": 0.0,
                   "decode_ms": 0.0, "max_abs_diff": 0.0, "lossless": True, "rtt_ms": 0.0, "status": "pass"}
            row.update({f"e2e_ms_{b}": part1 + part2 + coded * 8 / (b * 1000) for b in BANDWIDTHS})
            rows.append(row)
    # a node-index cut and a skipped cell: no layer configuration / no numbers, so in no figure
    rows.append({**rows[0], "split": "n10", "test_id": rows[0]["test_id"].replace("split0", "splitn10")})
    rows.append({"test_id": "tests/scenarios/test_cells.py::test_cell[x]", "scenario_name": scenario,
                 "model_name": "user_model", "device": "cpu", "split": 0, "coder_name": "raw", "status": "skipped"})
    return rows


def _drawn(png: bytes) -> bool:
    image = matplotlib.image.imread(io.BytesIO(png), format="png")
    return image.shape[0] > 100 and image[..., :3].std() > 0.05


@pytest.mark.parametrize("scenario", ["split_sweep", "posenet"])
def test_sweep_rows_read_back_give_one_bytes_and_one_latency_plot_per_coder(tmp_path, scenario):
    write_results(sweep_rows(scenario), tmp_path, ENVIRONMENT)
    _, rows = load_results(tmp_path)  # splits come back as text: the provider must still find k
    figures = figures_for(scenario, rows)
    assert len(figures) == 3  # bytes (both coders), latency raw, latency fp16; none for the skipped model
    assert all(_drawn(f.png) for f in figures)
    assert "bytes" in figures[0].caption and all("latency" in f.caption for f in figures[1:])
    for figure in figures[1:]:
        assert "1 Mbit/s: k = 3" in figure.caption and "10000 Mbit/s: k = 0" in figure.caption
    assert figures_for(scenario, [r for r in rows if r["split"] == "0"]) == []  # one configuration: no plot


def test_report_page_shows_the_sweep_figures(tmp_path):
    write_results(sweep_rows(), tmp_path, ENVIRONMENT)
    text = build_report(tmp_path)
    assert build_report(tmp_path) == text  # same rows, same bytes (no timestamp in the PNGs)
    page = parse(text)
    assert len(page.images) == 3
    assert all(_drawn(base64.b64decode(src.split(",", 1)[1])) for src in page.images)


def test_other_scenarios_get_no_sweep_figure(make_run):
    _, rows = load_results(make_run("plain"))
    from harness.report.sweep_plots import sweep_summaries

    assert sweep_summaries(rows) == {}


EXECUTOR = {"executor": "ray", "address": "local", "shard_size": 4, "shards_total": 30, "shards_computed": 24,
            "shards_from_store": 6, "shards_failed": 0, "wall_s": 61.2,
            "nodes": {"a" * 40: {"host": "gpu-1", "shards": 16, "units": 64, "busy_s": 32.0, "units_per_s": 2.0,
                                 "cell_units_per_s": 50.0},
                      "b" * 40: {"host": "gpu-2", "shards": 8, "units": 32, "busy_s": 8.0, "units_per_s": 4.0,
                                 "cell_units_per_s": 100.0}}}


def test_executor_json_becomes_a_per_node_table(make_run):
    run = make_run("ray")
    assert 'id="executor-nodes"' not in build_report(run, figures=False)  # local run: no file, no section
    (run / "executor.json").write_text(json.dumps(EXECUTOR))
    page = parse(build_report(run, figures=False))
    table = page.by_id("executor-nodes")
    assert table.headers == ["node", "host", "shards", "units", "busy_s", "units_per_s", "cell_units_per_s"]
    got = {r["attrs"]["data-node"]: [c["text"] for c in r["cells"]] for r in table.rows}
    assert got == {"a" * 40: ["a" * 12, "gpu-1", "16", "64", "32", "2", "50"],
                   "b" * 40: ["b" * 12, "gpu-2", "8", "32", "8", "4", "100"]}


def test_unreadable_executor_json_is_said_not_fatal(make_run):
    run = make_run("broken")
    (run / "executor.json").write_text("{not json")
    text = build_report(run, figures=False)
    assert "executor.json unreadable" in text and 'id="executor-nodes"' not in text


def test_submission_zip_has_no_executor_section(tmp_path: Path):
    from harness.report.throughput import executor_section

    (tmp_path / "run.zip").write_bytes(b"PK\x05\x06" + b"\0" * 18)  # an empty zip: a file, not a folder
    assert executor_section(tmp_path / "run.zip") == ""
