"""The report as a member reads it, on a run shaped like matrix/ssd.yaml: pivot tables in seed 000's shape,
numeric order of rate points and split points, links from cells to rows, structure results, plug-in figures,
unknown coders, no empty plots, and a screenshot in headless Chromium."""
from __future__ import annotations

import csv
import io
import shutil
import subprocess

import matplotlib.image
import pytest
import yaml

from harness.coders import make_coder
from harness.files import REPO_ROOT
from harness.report.figures import FIGURES, Figure
from harness.report.html import build_report, write_report

from .runs import asr_rows, detection_rows
from .pagereader import parse


@pytest.fixture(scope="module")
def ssd_run(tmp_path_factory):
    from harness.results import write_results

    from .runs import SUITE_ENVIRONMENT, suite_run_rows

    folder = tmp_path_factory.mktemp("ssd_run")
    write_results(suite_run_rows(split_only=False), folder, SUITE_ENVIRONMENT)
    write_report(folder)
    return folder


@pytest.fixture(scope="module")
def page(ssd_run):
    return parse((ssd_run / "report.html").read_text())


def csv_rows(folder):
    return list(csv.DictReader(io.StringIO((folder / "results.csv").read_text())))


def test_pivot_rows_and_columns_in_numeric_order(page):
    matrix = yaml.safe_load((REPO_ROOT / "matrix" / "ssd.yaml").read_text())
    (pivot,) = page.by_class("pivot")
    assert pivot.headers[1:] == [f"node {s}" for s in sorted(matrix["splits"])]
    labels = [r["cells"][0]["text"] for r in pivot.rows]
    # independent order: single-point coders (raw, fp16), then families by name, each from most to fewest bytes:
    # hevc lossless then qp ascending, j2k lossless then ratio ascending, nncodec qp ascending (finest first),
    # qlayer bits descending
    coders = matrix["coders"]
    hevc_qps = sorted(int(c.split("qp=")[1].split(",")[0]) for c in coders if c.startswith("hevc:qp"))
    ratios = sorted(int(c.split("ratio=")[1].split(",")[0]) for c in coders if c.startswith("j2k:ratio"))
    qps = sorted(int(c.split("=")[1]) for c in coders if c.startswith("nncodec"))
    bits = sorted((int(c.split("=")[1]) for c in coders if c.startswith("qlayer")), reverse=True)
    expected = (["raw", "fp16"] + (["hevc lossless"] if "hevc:lossless=1,bits=8" in coders else [])
                + [f"hevc qp={q}" for q in hevc_qps]
                + (["j2k lossless"] if "j2k:lossless=1,bits=8" in coders else []) + [f"j2k ratio={r}" for r in ratios]
                + [f"nncodec qp={q}" for q in qps] + [f"qlayer bits={b}" for b in bits])
    assert labels == expected
    assert labels.index("nncodec qp=-4") > labels.index("nncodec qp=-38")  # not text order
    specs = [r["cells"][0]["attrs"]["title"] for r in pivot.rows]
    assert sorted(specs) == sorted(make_coder(c).spec for c in coders)  # full spec on hover


def test_pivot_cells_match_results_and_link_to_their_rows(ssd_run, page):
    rows = {(r["split"], r["coder_name"]): r for r in csv_rows(ssd_run) if r["coder_name"] not in ("none", "anchor")}
    (pivot,) = page.by_class("pivot")
    splits = [h.split()[1] for h in pivot.headers[1:]]
    full = {r["attrs"]["data-cell"]: r for r in page.cell_rows()}
    seen = 0
    for html_row in pivot.rows:
        spec = html_row["cells"][0]["attrs"]["title"]
        for split, cell in zip(splits, html_row["cells"][1:]):
            row = rows[(split, spec)]
            assert cell["attrs"]["class"].split()[-1] == row["status"]
            assert cell["text"].startswith(f"{float(row['rec_perf']):.4g}")
            assert cell["text"].endswith(f"{float(row['kbpi']):.3g}" if float(row["kbpi"]) < 100
                                         else f"{float(row['kbpi']):.0f}")
            target = cell["href"].lstrip("#")
            assert target in page.ids and full[cell["attrs"]["data-cell"]]["attrs"]["id"] == target
            assert full[cell["attrs"]["data-cell"]]["attrs"]["data-status"] == row["status"]
            seen += 1
    assert seen == len(rows)
    failing = [c for r in pivot.rows for c in r["cells"][1:] if "fail" in c["attrs"]["class"]]
    assert len(failing) == sum(1 for r in rows.values() if r["status"] == "fail") == 1
    assert all(c["href"] for c in failing)


def test_anchor_and_structure_rows_have_their_own_place(ssd_run, page):
    rows = csv_rows(ssd_run)
    anchor = next(r for r in rows if r["coder_name"] == "anchor")
    assert f"anchor (unsplit): calc_map {float(anchor['rec_perf']):.4g}" in (ssd_run / "report.html").read_text()
    (structure,) = page.by_class("structure")
    assert "coder" not in structure.headers  # structure rows involve no coder
    shown = {r["cells"][0]["text"]: dict(zip(structure.headers, (c["text"] for c in r["cells"])))
             for r in structure.rows}
    for row in (r for r in rows if r["coder_name"] == "none"):
        assert shown[row["split"]]["metric"] == row["metric_name"] == "intermediate_bytes"
        assert shown[row["split"]]["anc_size"] == row["anc_size"]  # its value, not an empty "measured" column


def test_figures_are_drawn_and_never_empty(page):
    captions = [src for src in page.images]
    # seed 000 Figs. 1-2, 3-4, 5-8, 9-10 of the one group, none for structure rows; seed 002 Fig. 5 (mAP against
    # KBPI per split) in the BD-KBPI section
    assert len(captions) == 5
    for src in page.images:
        image = matplotlib.image.imread(io.BytesIO(__import__("base64").b64decode(src.split(",", 1)[1])), "png")
        assert image[..., :3].std() > 0.05


def test_structure_and_anchor_only_draw_nothing(make_run):
    rows = [{"scenario_name": "ssd", "coder_name": "none", "split": 10, "metric_name": "intermediate_bytes",
             "anc_size": 4096, "status": "pass"},
            {"scenario_name": "ssd", "coder_name": "anchor", "split": "", "metric_name": "calc_map",
             "rec_perf": 87.0, "anc_perf": 87.0, "status": "pass"}]
    text = build_report(make_run("bare", rows=rows))
    assert parse(text).images == []


def test_figure_registry_plugs_in_without_editing_the_page(make_run, monkeypatch):
    calls = []

    def provider(scenario, rows):
        calls.append((scenario, len(rows)))
        return [Figure(b"\x89PNG-test", "latency per split (plug-in)")] if scenario == "asr" else []

    monkeypatch.setattr(FIGURES, "_entries", {"zz_test_plugin": provider})  # only the plug-in: fast
    text = build_report(make_run("run"))
    assert sorted(calls) == [("asr", len(asr_rows())), ("ssd", len(detection_rows()))]
    assert text.count("latency per split (plug-in)") == 2  # alt and caption, once


def test_coder_unknown_to_this_build_is_shown_by_its_spec(make_run):
    def other_company(rows):
        for row in rows:
            if row["coder_name"].startswith("qlayer"):
                row["coder_name"] = row["coder_name"].replace("qlayer:bits=", "acmecodec:q=")

    page = parse(build_report(make_run("run", mutate=other_company), figures=False))
    labels = {r["cells"][0]["text"] for t in page.by_class("pivot") for r in t.rows}
    assert "acmecodec:q=4,lossless=zlib" in labels and "nncodec qp=-10" in labels
    legend = {r["cells"][2]["text"]: r["cells"][4]["text"] for r in page.by_id("coders").rows}
    assert legend["acmecodec:q=4,lossless=zlib"].startswith("not a coder of this build")


CHROMIUM = next((shutil.which(n) for n in ("chromium", "chromium-browser", "google-chrome") if shutil.which(n)), None)


@pytest.mark.skipif(CHROMIUM is None, reason="no chromium binary on PATH (Debian: apt-get install chromium)")
def test_screenshot_in_headless_chromium(ssd_run, tmp_path):
    shot = tmp_path / "report.png"
    subprocess.run([CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
                    f"--user-data-dir={tmp_path / 'profile'}", "--window-size=1280,2400", f"--screenshot={shot}",
                    (ssd_run / "report.html").as_uri()], check=True, capture_output=True, timeout=120)
    image = matplotlib.image.imread(shot)
    assert image.shape[:2] == (2400, 1280)
    top = image[:1200, :, :3]
    # the page rendered: dark text on white, and the pivot's green and red verdict cells are on screen
    assert (top.mean(axis=2) < 0.3).mean() > 0.005
    green = (top[..., 1] > 0.9) & (top[..., 0] < 0.9) & (top[..., 2] < 0.9)
    red = (top[..., 0] > 0.9) & (top[..., 1] < 0.85) & (top[..., 2] < 0.85)
    assert green.sum() > 1000 and red.sum() > 50
