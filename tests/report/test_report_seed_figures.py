"""The seed-figures section: seed 000's published figures beside figures read from a run's rows.

The rows are made so that each figure is known by hand: the anchor scores 80; fp16 keeps it and saves 50 % at
one split and 40 % at the other; NNCodec saves 75 % at the anchor's accuracy (QP -26 at split 1000), 90 % at a
loss (QP 8, below 99 % of the anchor: not counted).
"""
from __future__ import annotations

from harness.report.html import build_report
from harness.report.seed_figures import seed_figures, seed_figures_section
from harness.results import write_results

from .pagereader import parse
from .runs import ENVIRONMENT


def _row(split, coder, ratio, perf):
    return {"test_id": f"tests/scenarios/test_cells.py::test_cell[retinanet-rn-d-cpu-split{split}-{coder}]",
            "scenario_name": "retinanet", "model_name": "rn", "data_set_name": "d", "device": "cpu",
            "metric_name": "calc_map", "split": split, "coder_name": coder, "compress_ratio": ratio, "anc_perf": 80.0,
            "rec_perf": perf, "perf_fraction_of_anchor": perf / 80.0, "graph_nodes": 1751,
            "split_node_index": {1000: 779, "fpn": 1201}[split], "status": "pass"}


ROWS = [
    {"test_id": "tests/scenarios/test_cells.py::test_cell[retinanet-rn-d-cpu-anchor]", "scenario_name": "retinanet",
     "model_name": "rn", "data_set_name": "d", "device": "cpu", "metric_name": "calc_map", "split": "",
     "coder_name": "anchor", "rec_perf": 80.0, "status": "pass"},
    _row("fpn", "fp16", 0.6, 80.0), _row(1000, "fp16", 0.5, 80.0),
    _row(1000, "nncodec:qp=-26", 0.25, 79.5), _row(1000, "nncodec:qp=8", 0.10, 60.0),
]


def _table(html):
    (table,) = [t for t in parse(html).tables if t.attrs.get("data-scenario") == "retinanet"]
    return {row["cells"][0]["text"]: row["cells"][2]["text"] for row in table.rows}, table


def test_the_run_side_is_read_from_the_rows():
    figures, table = _table(seed_figures_section(ROWS))
    assert table.headers[1].startswith("seed 000")
    assert figures["graph nodes"] == "1751"
    assert figures["anchor calc_map"] == "80"
    assert figures["fp16: size saved, largest calc_map drop"] == "40.0 % to 50.0 %, 0 points"
    assert figures["split points (seed index → node cut before)"] == "1000 → 779, fpn → 1201"
    best = next(v for k, v in figures.items() if k.startswith("NNCodec"))
    assert best == "75.0 % (split 1000, nncodec:qp=-26)"


def test_the_seed_side_is_the_published_figures():
    figures = seed_figures()["detection"]["retinanet"]
    assert (figures["nodes"], figures["anchor_calc_map"]) == (2248, 94.21)  # seed 000 §2
    html = seed_figures_section(ROWS)
    _, table = _table(html)
    seed_side = {row["cells"][0]["text"]: row["cells"][1]["text"] for row in table.rows}
    assert seed_side["anchor calc_map"] == "94.21" and seed_side["graph nodes"] == "2248"
    assert seed_side["split points (seed index → node cut before)"].startswith("100, 400, 700")


def test_no_detection_rows_no_section_and_the_page_shows_it(tmp_path):
    assert seed_figures_section([{**ROWS[0], "scenario_name": "coders"}]) == ""
    write_results(ROWS, tmp_path, ENVIRONMENT)
    page = parse(build_report(tmp_path, figures=False))
    assert "seed-figures" in page.ids


def test_sfu_anchor_rows_become_the_per_sequence_per_class_table():
    from harness.report.sfu_table import per_class_tables

    def anchor(sequence, calc, coco, overall):
        return {"scenario_name": "sfu", "model_name": "rn", "device": "cpu", "coder_name": "anchor",
                "data_set_name": f"sfu-{sequence}", "frames": 60, "per_class_calc_map": calc,
                "per_class_coco_AP": coco, "rec_perf": overall, "map_coco_AP": overall / 2}

    # G-B from a run of frames 0:20: the selection is its ``frames`` axis, the count its ``frame_count``; G-A
    # from a results file older than ``frame_count``
    rows = [{**anchor("G-B", "person=50.00;car=20.00", "person=40.00;car=10.00", 35.0), "frames": "0:20:1",
             "frame_count": 20},
            anchor("G-A", "car=70.00", "car=60.00", 70.0),
            {**anchor("G-A", "car=1", "car=1", 1.0), "coder_name": "fp16"}]  # not an anchor: not in the table
    calc, coco = (parse(t).tables[0] for t in per_class_tables(rows))
    assert calc.headers == ["sequence", "frames", "person", "car", "all classes"]
    assert [[c["text"] for c in r["cells"]] for r in calc.rows] == [
        ["G-A", "60", "", "70", "70"], ["G-B", "20", "50", "20", "35"]]
    assert [[c["text"] for c in r["cells"]] for r in coco.rows][1] == ["G-B", "20", "40", "10", "17.5"]


def test_derive_rows_on_sequences_become_the_original_against_derived_table():
    from harness.report.sfu_table import derived_per_class_tables

    def derived(sequence, method, level, calc, overall, **extra):
        return {"scenario_name": "derive", "model_name": "rn", "device": "cpu", "data_set_name": f"sfu-{sequence}",
                "method": method, "level": level, "images": 60, "per_class_calc_map": calc,
                "per_class_coco_AP": calc, "rec_perf": overall, "map_coco_AP": overall, **extra}

    rows = [derived("G-B", "qdq-static", 16, "person=40.00;car=20.00", 30.0),
            derived("G-B", "fp32", 0, "person=50.00;car=20.00", 35.0),
            derived("G-A", "dynamic", 0, "car=69.00", 69.0),
            derived("G-A", "fp32", 0, "car=70.00", 70.0),
            derived("G-A", "qdq-static", 16, "car=1", 1.0, split=30),  # a split cell: not the whole model
            {**derived("A", "fp32", 0, "car=5", 5.0), "data_set_name": "coco50"}]  # not a sequence
    calc, _ = (parse(t).tables[0] for t in derived_per_class_tables(rows))
    assert calc.headers == ["sequence", "model", "images", "person", "car", "all classes"]
    assert [[c["text"] for c in r["cells"]] for r in calc.rows] == [
        ["G-A", "fp32 (original)", "60", "", "70", "70"], ["G-A", "dynamic 0", "60", "", "69", "69"],
        ["G-B", "fp32 (original)", "60", "50", "20", "35"], ["G-B", "qdq-static 16", "60", "40", "20", "30"]]


def test_split_labels_read_back_as_text_are_listed_in_numeric_order():
    from harness.report.seed_figures import run_figures

    rows = [{**ROWS[1], "split": label, "split_node_index": ""} for label in ("110", "30", "10", "fpn")]
    assert run_figures(rows, 0.99)["splits"] == ["10", "30", "110", "fpn"]
