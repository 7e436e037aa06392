"""report.html rendered from hand-made results folders: every CSV row, counts, figures and BD values."""
from __future__ import annotations

import base64
import csv
import io
from collections import Counter

import matplotlib.image
import pytest

from harness.cli import main
from harness.report.html import build_report

from .runs import detection_rows
from .pagereader import parse


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
    shown = page.cell_rows()
    assert sorted(r["attrs"]["data-cell"] for r in shown) == sorted(cell_of(r) for r in rows)
    for html_row in shown:
        assert html_row["cells"][-1]["text"] == html_row["attrs"]["data-status"]  # status column = row status
        assert html_row["attrs"]["class"].split()[1] == html_row["attrs"]["data-status"]  # coloured by it
    summary = {r["attrs"]["data-scenario"]: [c["text"] for c in r["cells"]] for r in page.by_id("summary").rows}
    for scenario, counts in Counter((r["scenario_name"], r["status"]) for r in rows).items():
        column = {"pass": 2, "fail": 3}[scenario[1]]
        assert int(summary[scenario[0]][column]) == counts
    failing = [r for r in shown if r["attrs"]["data-status"] == "fail"]
    assert [r["cells"][-2]["text"] for r in failing] == ["OUTSIDE"]  # its reference is 5 mAP away, tolerance 0.5
    assert {"summary", "environment", "assets", "coders", "slowest"} <= page.ids
    assert page.by_class("bd") and page.by_class("pivot")


def test_report_embeds_one_png_per_plot(make_run):
    run = make_run("run")
    page = parse(build_report(run))
    # detection group: seed 000 Figs. 1-2, 3-4, 5-8, 9-10; ASR group: seed 001 Fig. 10.1.9-1
    assert len(page.images) == 5
    for src in page.images:
        assert src.startswith("data:image/png;base64,")
        image = matplotlib.image.imread(io.BytesIO(base64.b64decode(src.split(",", 1)[1])), format="png")
        assert image.shape[0] > 100 and image.shape[1] > 100
        assert image[..., :3].std() > 0.05  # something drawn, not a blank canvas


def test_report_shows_environment_and_asset_md5(make_run):
    page = parse(build_report(make_run("run"), figures=False))
    env = {r["cells"][0]["text"]: r["cells"][1]["text"] for r in page.by_id("environment").rows}
    assert env["cpu"] == "Test CPU 3000"
    assert "onnx 1.23.2" in env["packages"].split(", ")
    assets = {r["cells"][0]["text"]: r["cells"][2]["text"] for r in page.by_id("assets").rows}
    assert assets == {"ssd_small": "0123456789abcdef0123456789abcdef"}
    headings = [t.attrs.get("id") for t in page.tables]
    assert headings.index("environment") < headings.index("summary")  # at the top


def _bd(page):
    return [[c["text"] for c in r["cells"]] for t in page.by_class("bd") for r in t.rows]


def test_bd_table_has_the_known_deltas(make_run):
    page = parse(build_report(make_run("run"), figures=False))
    bd = _bd(page)
    codec = {(c[1], c[3]): float(c[6]) for c in bd if c[0] == "codec"}
    split = {(c[1], c[3]): float(c[6]) for c in bd if c[0] == "split"}
    assert codec == {("split 10", "qlayer"): pytest.approx(-20.0), ("split 30", "qlayer"): pytest.approx(-20.0)}
    assert split == {("nncodec", "split 30"): pytest.approx(-50.0), ("qlayer", "split 30"): pytest.approx(-50.0)}


def test_anchor_option_swaps_the_anchor(make_run):
    page = parse(build_report(make_run("run"), anchor_family="qlayer:bits=8", figures=False))
    codec = [c for c in _bd(page) if c[0] == "codec"]
    assert codec and {c[3] for c in codec} == {"nncodec"}
    assert all(float(c[6]) == pytest.approx(25.0) for c in codec)  # 1/0.8 - 1


def test_slowest_combinations_are_sorted(make_run):
    run = make_run("run")
    page = parse(build_report(run, slowest=3, figures=False))
    slow = [[c["text"] for c in r["cells"]] for r in page.by_id("slowest").rows]
    totals = [float(c[1]) for c in slow]
    assert len(slow) == 3 and totals == sorted(totals, reverse=True)
    every = []
    for r in csv_rows(run):
        every.append(float(r["enc_time"]) + float(r["dec_time"]) + float(r["rec_eval_time"]))
    assert totals[0] == pytest.approx(max(every))


def test_report_is_deterministic(make_run):
    run = make_run("run", rows=detection_rows()[:12])
    assert build_report(run) == build_report(run)


def test_report_from_csv_alone(make_run):
    run = make_run("run")
    (run / "results.json").unlink()
    text = build_report(run, figures=False)
    assert len(parse(text).cell_rows()) == len(csv_rows(run))
    assert "environment" not in parse(text).ids and "recorded no environment" in text


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
    assert len(page.cell_rows()) == 1
    assert page.images == []  # nothing finite to draw: no figure at all


def test_family_is_the_coders_declaration():
    from harness.coders import make_coder
    from harness.report.curves import coder_family, resolve_anchor

    family = coder_family("nncodec:qp=-10,dq=1,bitdepth=0")
    assert family == make_coder("nncodec:qp=-26,dq=1,bitdepth=0").family  # same family whatever the qp
    assert "qp=" not in family and family.startswith("nncodec:")
    assert coder_family("qlayer:bits=4") == coder_family("qlayer:bits=12") != coder_family("qlayer:bits=4,lossless=png")
    assert resolve_anchor(None, ["fp16x", family]) == family
    assert resolve_anchor("qlayer", ["qlayer:lossless=zlib", family]) == "qlayer:lossless=zlib"
    assert resolve_anchor(None, ["a", "b"]) == "a"
    assert coder_family("acme:q=3") == "acme:q=3"  # a coder this build does not know is its own family
