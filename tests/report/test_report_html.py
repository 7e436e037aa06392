"""report.html rendered from hand-made results folders: every CSV row, counts, figures and BD values."""
from __future__ import annotations

import base64
import csv
import io
from collections import Counter
from html.parser import HTMLParser

import matplotlib.image
import pytest

from harness.cli import main
from harness.report.html import build_report


class Collect(HTMLParser):
    """Rows with their attributes and text, images, and table ids."""

    def __init__(self) -> None:
        super().__init__()
        self.rows: list[dict] = []
        self.images: list[str] = []
        self.tables: list[str] = []
        self._row: dict | None = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "tr":
            self._row = {"attrs": attrs, "cells": []}
        elif tag in ("td", "th") and self._row is not None:
            self._row["cells"].append("")
        elif tag == "img":
            self.images.append(attrs["src"])
        elif tag == "table" and "id" in attrs:
            self.tables.append(attrs["id"])

    def handle_data(self, data):
        if self._row is not None and self._row["cells"]:
            self._row["cells"][-1] += data

    def handle_endtag(self, tag):
        if tag == "tr" and self._row is not None:
            self.rows.append(self._row)
            self._row = None


def parse(text: str) -> Collect:
    parser = Collect()
    parser.feed(text)
    return parser


def csv_rows(folder):
    return list(csv.DictReader(io.StringIO((folder / "results.csv").read_text())))


def cell_of(row) -> str:
    parts = [row["scenario_name"], row["model_name"], row["data_set_name"], row["device"]]
    if row["split"]:
        parts.append(f"split={row['split']}")
    return "/".join(parts + [row["coder_name"], row["metric_name"]])


def test_report_lists_every_row_with_matching_counts(make_run):
    run = make_run("run")
    assert main(["report", str(run)]) == 0
    page = parse((run / "report.html").read_text())
    rows = csv_rows(run)
    matrix = [r for r in page.rows if "cell" in r["attrs"].get("class", "")]
    assert sorted(r["attrs"]["data-cell"] for r in matrix) == sorted(cell_of(r) for r in rows)
    for html_row in matrix:
        assert html_row["cells"][-1] == html_row["attrs"]["class"].split()[1]  # status column = row class
    summary = {r["attrs"]["data-scenario"]: r["cells"] for r in page.rows if "data-scenario" in r["attrs"]}
    for scenario, counts in Counter((r["scenario_name"], r["status"]) for r in rows).items():
        column = {"pass": 2, "fail": 3}[scenario[1]]
        assert int(summary[scenario[0]][column]) == counts
    failing = [r for r in matrix if r["attrs"]["class"].endswith("fail")]
    assert [r["cells"][-2] for r in failing] == ["OUTSIDE"]  # its reference is 5 mAP away, tolerance 0.5
    assert {"summary", "environment", "bd", "slowest"} <= set(page.tables)


def test_report_embeds_one_png_per_plot(make_run):
    run = make_run("run")
    page = parse(build_report(run))
    # detection group: bars per split/coder, metric vs size, metric vs ratio; ASR group: WER vs cSize
    assert len(page.images) == 4
    for src in page.images:
        assert src.startswith("data:image/png;base64,")
        image = matplotlib.image.imread(io.BytesIO(base64.b64decode(src.split(",", 1)[1])), format="png")
        assert image.shape[0] > 100 and image.shape[1] > 100


def test_report_shows_environment_and_asset_md5(make_run):
    page = parse(build_report(make_run("run")))
    env = {r["cells"][0]: r["cells"][1] for r in page.rows if len(r["cells"]) == 2 and r["cells"][0] != "key"}
    assert env["cpu"] == "Test CPU 3000"
    assert env["packages.onnx"] == "1.23.2"
    assert env["assets.ssd_small"] == "0123456789abcdef0123456789abcdef"


def test_bd_table_has_the_known_deltas(make_run):
    page = parse(build_report(make_run("run")))
    bd = [r["cells"] for r in page.rows if r["attrs"].get("class") == "bd"]
    codec = {(c[2], c[4]): float(c[7]) for c in bd if c[1] == "codec"}
    split = {(c[2], c[4]): float(c[7]) for c in bd if c[1] == "split"}
    assert codec == {("split 10", "qlayer:lossless=zlib"): pytest.approx(-20.0),
                     ("split 30", "qlayer:lossless=zlib"): pytest.approx(-20.0)}
    assert split == {("nncodec", "split 30"): pytest.approx(-50.0),
                     ("qlayer:lossless=zlib", "split 30"): pytest.approx(-50.0)}


def test_anchor_option_swaps_the_anchor(make_run):
    page = parse(build_report(make_run("run"), anchor_family="qlayer:lossless=zlib"))
    codec = [r["cells"] for r in page.rows if r["attrs"].get("class") == "bd" and r["cells"][1] == "codec"]
    assert {c[4] for c in codec} == {"nncodec"}
    assert all(float(c[7]) == pytest.approx(25.0) for c in codec)  # 1/0.8 - 1


def test_slowest_combinations_are_sorted(make_run):
    run = make_run("run")
    page = parse(build_report(run, slowest=3))
    slow = [r["cells"] for r in page.rows if r["attrs"].get("class") == "slow"]
    totals = [float(c[1]) for c in slow]
    assert len(slow) == 3 and totals == sorted(totals, reverse=True)
    every = []
    for r in csv_rows(run):
        every.append(float(r["enc_time"]) + float(r["dec_time"]) + float(r["rec_eval_time"]))
    assert totals[0] == pytest.approx(max(every))


def test_report_is_deterministic(make_run):
    run = make_run("run")
    assert build_report(run) == build_report(run)


def test_report_from_csv_alone(make_run):
    run = make_run("run")
    (run / "results.json").unlink()
    page = parse(build_report(run))
    assert len([r for r in page.rows if "cell" in r["attrs"].get("class", "")]) == len(csv_rows(run))
    assert "environment" not in page.tables


def test_missing_results_folder_is_a_clear_error(tmp_path, capsys):
    assert main(["report", str(tmp_path / "nowhere")]) == 1
    err = capsys.readouterr().err
    assert err.startswith("error:") and "does not exist" in err
    (tmp_path / "empty").mkdir()
    assert main(["report", str(tmp_path / "empty")]) == 1
    assert "neither results.json nor results.csv" in capsys.readouterr().err
    assert not (tmp_path / "empty" / "report.html").exists()


def test_rows_without_numbers_still_render(make_run):
    run = make_run("odd", rows=[{"scenario_name": "coders", "coder_name": "raw", "metric_name": "nmse",
                                 "rec_perf": float("nan"), "status": "pass"}])
    page = parse(build_report(run))
    assert len([r for r in page.rows if "cell" in r["attrs"].get("class", "")]) == 1


def test_anchor_matches_family_with_extra_parameters():
    from harness.report.curves import coder_family, resolve_anchor

    family = coder_family("nncodec:qp=-10,dq=1,bitdepth=0")
    assert family == "nncodec:dq=1,bitdepth=0"
    assert resolve_anchor(None, ["fp16x", family]) == family
    assert resolve_anchor("qlayer", ["qlayer:lossless=zlib", family]) == "qlayer:lossless=zlib"
    assert resolve_anchor(None, ["a", "b"]) == "a"
