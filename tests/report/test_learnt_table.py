"""The seed 003 section: written against estimated rate and device/server time per image, from results rows."""
from __future__ import annotations

from harness.report.learnt_table import learnt_rows, learnt_table

from .pagereader import parse


def row(coder: str, kbpi: float, estimated: float | None, split: str = "90", **extra) -> dict:
    images = 50
    return {"scenario_name": "ssd", "model_name": "ssd_small", "device": "cpu", "split": split, "coder_name": coder,
            "kbpi": kbpi, "rec_size": kbpi * 1000 / 8 * images, "rec_perf": 80.0,
            "estimated_bytes": estimated, "device_time": 5.0, "server_time": 1.0, **extra}


def test_gap_and_times_per_image() -> None:
    rows = [row("learnt:prior=hyper,nr=16,lambda=0.32", 8.0, 40_000.0),  # 40 kB over 50 images = 6.4 kbit/image
            row("learnt:prior=hyper,nr=16,lambda=0.02", 2.0, 10_000.0),
            row("nncodec:qp=-10", 50.0, None),  # no entropy model, no layers: not in the section
            row("pca:components=4,bits=8,refine=0,layers=2", 20.0, None),  # layered: in, without an estimate
            {**row("learnt:prior=hyper,nr=16,lambda=0.02", 0, None), "split": "", "coder_name": "anchor"}]
    chosen = learnt_rows(rows)
    assert [r["coder_name"] for r in chosen] == ["learnt:prior=hyper,nr=16,lambda=0.02",
                                                 "learnt:prior=hyper,nr=16,lambda=0.32",
                                                 "pca:components=4,bits=8,refine=0,layers=2"]
    html = learnt_table(rows)
    page = parse(f"<html><body>{html}</body></html>")
    (found,) = page.tables
    cells = [[c["text"] for c in r["cells"]] for r in found.rows]
    first = dict(zip(found.headers, cells[0]))
    # 10 kB estimated over 50 images = 1.6 kbit/image; 2.0 written: 25 % above the estimate
    assert float(first["estimated kbit/image"]) == 1.6 and float(first["gap %"]) == 25.0
    assert float(first["device ms/image"]) == 100.0 and float(first["server ms/image"]) == 20.0
    second = dict(zip(found.headers, cells[1]))
    assert float(second["gap %"]) == 25.0  # 8.0 written against 6.4 estimated
    assert dict(zip(found.headers, cells[2]))["estimated kbit/image"] == ""


def test_no_rows_no_section() -> None:
    assert learnt_table([row("nncodec:qp=-10", 50.0, None)]) == ""
