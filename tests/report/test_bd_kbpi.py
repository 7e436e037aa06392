"""BD-KBPI-mAP against the cloud-only anchor (seed 002 Table 1) in report.html, on curves with known answers.

The anchor (ssd_cloud, HEVC intra 4:4:4) is a hand-made curve; the split-inference curves are built from it:
half its kilobits for the same mAP (BD-KBPI -50 % with any interpolation, since both interpolate log-rate
against mAP and the shift is a constant in log-rate), the same kilobits and 2 mAP points more (BD-mAP +2), the
half-rate curve with one extra point below the front (not monotonic, -50 % on its front), an mAP range that
misses the anchor's (no BD-KBPI), three points (too few for VCEG-M33's cubic), and JPEG at twice the rate.
"""
from __future__ import annotations

import math
import re
from pathlib import Path

import pytest

from harness.cli import main
from harness.report.html import build_report
from harness.report.markup import slug
from harness.results import write_results

from .runs import ENVIRONMENT
from .pagereader import parse

ANCHOR_KBPI = [5.0, 10.0, 20.0, 40.0, 80.0]
ANCHOR_MAP = [50.0, 70.0, 82.0, 88.0, 91.0]
GROUP = ("ssd_small", "shapes50_selected", "cpu")
NNCODEC, QLAYER, HEVC = "nncodec:qp={}", "qlayer:bits={}", "hevc:qp={},bits=8"


def _row(scenario: str, split: str, coder: str, kbpi: float, mAP: float) -> dict:
    return {"test_id": f"tests/scenarios/test_cells.py::test_cell[{scenario}-{split}-{coder}]",
            "scenario_name": scenario, "model_name": GROUP[0], "data_set_name": GROUP[1], "device": GROUP[2],
            "split": split, "coder_name": coder, "metric_name": "calc_map", "rec_perf": mAP, "anc_perf": 95.0,
            "kbpi": kbpi, "kbpi_std": kbpi / 10, "rec_size": kbpi * 125 * 50, "status": "pass"}


def _curve(scenario: str, split: str, spec: str, rates: list[float], maps: list[float], params: list) -> list[dict]:
    return [_row(scenario, split, spec.format(p), r, m) for p, r, m in zip(params, rates, maps)]


def kbpi_rows(with_cloud: bool = True) -> list[dict]:
    qps, bits = [-38, -26, -18, -10, -4], [12, 10, 8, 6, 4]
    half = [r * 0.5 for r in ANCHOR_KBPI]
    rows = _curve("ssd", "10", NNCODEC, half, ANCHOR_MAP, qps)
    rows += _curve("ssd", "10", QLAYER, [r * 0.4 for r in ANCHOR_KBPI], ANCHOR_MAP, bits)  # 0.8 x nncodec
    rows += _curve("ssd", "30", NNCODEC, ANCHOR_KBPI, [m + 2 for m in ANCHOR_MAP], qps)
    # not monotonic: an extra point (7.5 kbit, 65 mAP) below the front of the half-rate curve
    rows += _curve("ssd", "50", HEVC, [2.5, 5.0, 7.5, 10.0, 20.0, 40.0], [50.0, 70.0, 65.0, 82.0, 88.0, 91.0],
                   [47, 42, 40, 37, 32, 27])
    rows += _curve("ssd", "70", QLAYER, ANCHOR_KBPI, [10.0, 15.0, 20.0, 25.0, 30.0], bits)  # mAP misses [50, 91]
    rows += _curve("ssd", "90", NNCODEC, half[:3], ANCHOR_MAP[:3], qps[:3])  # 3 points: no cubic
    rows += [_row("ssd", "10", "raw", 500.0, 95.0), {**_row("ssd", "", "anchor", 1.0, 95.0), "kbpi": None}]
    if with_cloud:
        rows += _curve("ssd_cloud", "cloud", "hevc-image:qp={},chroma=444", ANCHOR_KBPI, ANCHOR_MAP,
                       [22, 27, 32, 37, 42])
        rows += _curve("ssd_cloud", "cloud", "jpeg:quality={},chroma=444", [r * 2 for r in ANCHOR_KBPI],
                       ANCHOR_MAP, [90, 75, 50, 30, 10])
        rows.append(_row("ssd_cloud", "cloud", "png", 300.0, 95.0))
    return rows


@pytest.fixture
def kbpi_run(tmp_path: Path):
    def make(name: str = "run", with_cloud: bool = True) -> Path:
        write_results(kbpi_rows(with_cloud), tmp_path / name, ENVIRONMENT)
        return tmp_path / name

    return make


def _cells(page, kind: str, method: str) -> dict[tuple[str, str], dict]:
    """(family label, split) -> td of one BD-KBPI table (kind: kbpi or pairs)."""
    table = page.by_id(f"bd-{kind}-{slug('-'.join(GROUP + ('calc_map',)))}-{method}")
    out = {}
    for row in table.rows:
        for cell in row["cells"][1:]:
            if "bdk" in cell["attrs"].get("class", "").split():  # empty cells (no curve) carry no values
                out[(row["cells"][0]["text"].split(" against ")[0], cell["attrs"]["data-split"])] = cell
    return out


def _value(cell: dict, which: str) -> float | None:
    text = cell["attrs"][f"data-bd-{which}"]
    return None if text == "None" else float(text)


@pytest.mark.parametrize("method", ["pchip", "cubic"])
def test_known_bd_values_against_the_cloud_anchor(kbpi_run, method):
    page = parse(build_report(kbpi_run(), figures=False))
    cells = _cells(page, "kbpi", method)
    assert _value(cells[("nncodec", "10")], "kbpi") == pytest.approx(-50.0, abs=1e-9)
    assert _value(cells[("qlayer", "10")], "kbpi") == pytest.approx(-60.0, abs=1e-9)
    assert _value(cells[("nncodec", "30")], "map") == pytest.approx(2.0, abs=1e-9)
    assert _value(cells[("jpeg", "cloud")], "kbpi") == pytest.approx(100.0, abs=1e-9)
    for key in (("nncodec", "10"), ("qlayer", "10"), ("nncodec", "30"), ("jpeg", "cloud")):
        assert cells[key]["attrs"]["class"].split()[-1] == "ok", cells[key]["text"]
    assert cells[("nncodec", "10")]["text"].startswith("-50.0 %")
    # the non-monotonic curve is said to be so, and its front (the half-rate curve) gives -50 %
    assert "not monotonic (1 dropped)" in cells[("hevc", "50")]["text"]
    assert _value(cells[("hevc", "50")], "kbpi") == pytest.approx(-50.0, abs=1e-9)
    # disjoint mAP ranges: no BD-KBPI, said in the cell; the KBPI ranges overlap, so BD-mAP is there
    assert _value(cells[("qlayer", "70")], "kbpi") is None and "no overlap in mAP" in cells[("qlayer", "70")]["text"]
    assert _value(cells[("qlayer", "70")], "map") < -50
    header = page.by_id(f"bd-kbpi-{slug('-'.join(GROUP + ('calc_map',)))}-{method}").headers
    assert header == ["coder family \\ split", "node 10", "node 30", "node 50", "node 70", "node 90", "cloud only"]


def test_three_points_are_too_few_for_the_cubic_fit_only(kbpi_run):
    page = parse(build_report(kbpi_run(), figures=False))
    cubic, pchip = _cells(page, "kbpi", "cubic"), _cells(page, "kbpi", "pchip")
    assert "too few points" in cubic[("nncodec", "90")]["text"] and _value(cubic[("nncodec", "90")], "kbpi") is None
    assert -60 < _value(pchip[("nncodec", "90")], "kbpi") < -40  # half the rate on the anchor's lower part


@pytest.mark.parametrize("method", ["pchip", "cubic"])
def test_families_compared_at_the_same_split(kbpi_run, method):
    cells = _cells(parse(build_report(kbpi_run(), figures=False)), "pairs", method)
    pair = next(c for (family, split), c in cells.items() if split == "10" and family == "qlayer")
    assert pair["attrs"]["data-anchor"].startswith("nncodec:")
    assert _value(pair, "kbpi") == pytest.approx(-20.0, abs=1e-9)  # 0.4 / 0.5 of the rate at equal mAP
    assert {split for _, split in cells} == {"10"}  # no other split holds two families


def test_cloud_anchor_option_picks_another_family(kbpi_run, capsys):
    run = kbpi_run()
    assert main(["report", str(run), "--cloud-anchor", "jpeg:quality=50,chroma=444"]) == 0
    page = parse((run / "report.html").read_text())
    cells = _cells(page, "kbpi", "pchip")
    assert _value(cells[("hevc-image", "cloud")], "kbpi") == pytest.approx(-50.0, abs=1e-9)
    assert _value(cells[("nncodec", "10")], "kbpi") == pytest.approx(-75.0, abs=1e-9)
    assert "jpeg:chroma=444" in page.by_id(f"bd-kbpi-{slug('-'.join(GROUP + ('calc_map',)))}-pchip").caption


def test_without_cloud_rows_the_section_says_so_and_keeps_the_family_table(kbpi_run):
    text = build_report(kbpi_run(with_cloud=False), figures=False)
    page = parse(text)
    assert not page.by_class("bd-kbpi") and page.by_class("bd-kbpi-pairs")
    assert "no cloud-only curve" in text


def test_no_section_without_kbpi_rows(make_run):
    assert 'id="bd-kbpi"' not in build_report(make_run("plain"), figures=False)


def test_real_shaped_curves_are_flagged_not_hidden():
    """Saturated accuracy (two QPs at mAP 100) and a cubic that turns back: both named in the cell."""
    from harness.report.bd_kbpi import BAD_FIT, NOT_MONOTONIC, bd_cell
    from harness.report.curves import Point

    anchor = [Point(r, m, "") for r, m in zip([3.1, 5.1, 8.7, 16.4, 39.7, 74.8], [69.0, 93.0, 97.7, 98.2, 98.9, 99.6])]
    test = [Point(r, m, "") for r, m in zip([15.7, 48.3, 71.6, 111.0, 248.0, 349.0],
                                            [71.8, 96.5, 98.6, 98.7, 100.0, 100.0])]
    pchip, cubic = bd_cell(anchor, test, "pchip", True), bd_cell(anchor, test, "cubic", True)
    assert pchip.problems == (NOT_MONOTONIC,) and pchip.dropped == 1 and math.isfinite(pchip.bd_kbpi)
    assert pchip.bd_kbpi > 0  # the test curve needs more kilobits at every mAP of the common interval
    assert BAD_FIT in cubic.problems


def test_a_retrained_part2_joins_its_base_models_tables(tmp_path):
    """Seed 002 Table 1's "re-trained weights" column: rows of a detector whose part 2 was fine-tuned (base_model)
    are curves of the base model's group, named ``<family> @ <detector>``, against the same cloud-only anchor;
    the between-families table holds the gain of re-training at the split point."""
    default = _curve("ssd", "110", HEVC, ANCHOR_KBPI, ANCHOR_MAP, [22, 27, 32, 37, 42])
    default += _curve("ssd", "110", NNCODEC, [r * 2 for r in ANCHOR_KBPI], ANCHOR_MAP, [-38, -26, -18, -10, -4])
    retrained = [{**row, "model_name": "ssd_small_cat110", "base_model": "ssd_small",
                  "test_id": row["test_id"] + "-cat"}
                 for row in _curve("ssd", "110", HEVC, [r * 0.5 for r in ANCHOR_KBPI], ANCHOR_MAP, [22, 27, 32, 37, 42])]
    cloud = _curve("ssd_cloud", "cloud", "hevc-image:qp={},chroma=444", ANCHOR_KBPI, ANCHOR_MAP, [22, 27, 32, 37, 42])
    write_results(default + retrained + cloud, tmp_path / "run", ENVIRONMENT)
    text = build_report(tmp_path / "run", figures=False)
    page = parse(text)
    against, pairs = _cells(page, "kbpi", "pchip"), _cells(page, "pairs", "pchip")
    assert _value(against[("hevc", "110")], "kbpi") == pytest.approx(0.0, abs=1e-9)
    assert _value(against[("hevc @ ssd_small_cat110", "110")], "kbpi") == pytest.approx(-50.0, abs=1e-9)
    gain = pairs[("hevc @ ssd_small_cat110", "110")]
    assert gain["attrs"]["data-anchor"].startswith("hevc:") and " @ " not in gain["attrs"]["data-anchor"]
    assert _value(gain, "kbpi") == pytest.approx(-50.0, abs=1e-9)
    assert "bd-kbpi-ssd_small_cat110" not in text  # no group of its own
    # the re-trained curve is compared with its own family on the base model only, not with nncodec
    table = page.by_id(f"bd-pairs-{slug('-'.join(GROUP + ('calc_map',)))}-pchip")
    labels = [row["cells"][0]["text"] for row in table.rows]
    assert labels == ["hevc @ ssd_small_cat110 against hevc", "nncodec against hevc"], labels


def test_the_kbpi_figure_draws_every_split_with_the_cloud_curve(kbpi_run):
    text = build_report(kbpi_run(), figures=True)
    captions = [c for c in re.findall(r"<figcaption>(.*?)</figcaption>", text) if "KBPI at each split point" in c]
    assert len(captions) == 1 and "hevc-image:chroma=444" in captions[0]
