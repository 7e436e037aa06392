"""What is specific to the ``ssd`` scenario beyond its generic cells (tests/scenarios/test_cells.py).

* part 1 of every split point reproduces the one-pass features (seed 001 §10.3.9.1: split == unsplit);
* the recorded sweep discriminates: lossless cells keep the anchor and the coarsest rate point of a lossy
  family costs >= 5 calc_map points somewhere (references are regression records of measured runs; the
  cells gate each measurement against them);
* the matrix is the only source of the cells: its split points and coders, nothing restated here.
"""
from __future__ import annotations

import pytest

from harness.coders import make_coder
from harness.references import get_reference
from harness.scenarios.base import ANCHOR

pytestmark = pytest.mark.ssd


def detector_ids(scenario) -> list[tuple[str, str]]:
    return [(d["detector"], d["dataset"]) for d in scenario.matrix["detectors"]]


def test_cells_are_the_matrix(ssd_scenario) -> None:
    matrix = ssd_scenario.matrix
    per_detector = {(d["detector"], d["dataset"]): 1 + len(d.get("splits", matrix["splits"]))
                    * len(d.get("coders", matrix["coders"])) + sum(len(v) for v in d.get("coders_at", {}).values())
                    for d in matrix["detectors"]}
    cells = ssd_scenario.cells()
    assert len(cells) == sum(per_detector.values()) * len(ssd_scenario.context.devices)
    assert len({c.id for c in cells}) == len(cells) and len({tuple(c.reference_key) for c in cells}) == len(cells)
    for (detector, dataset), count in per_detector.items():
        mine = [c for c in cells if (c["model_name"], c["data_set_name"]) == (detector, dataset)]
        assert len(mine) == count * len(ssd_scenario.context.devices), detector


def test_an_entry_with_an_unknown_key_is_refused(ssd_scenario) -> None:
    from harness.scenarios.ssd import SsdScenario

    matrix = {**ssd_scenario.matrix, "detectors": [{"detector": "ssd_small", "dataset": "shapes50", "split": [90]}]}
    with pytest.raises(ValueError, match=r"matrix/ssd.yaml: detectors entry .*allowed keys: coders, coders_at, dataset, "):
        SsdScenario(matrix, ssd_scenario.context)


def test_slow_splits_mark_their_cells_and_keep_one_split_in_the_default_run(ssd_scenario) -> None:
    from harness.scenarios.ssd import SsdScenario

    entry = {"detector": "ssd_small", "dataset": "shapes50", "splits": [30, 90], "coders": ["raw", "fp16"]}
    scenario = SsdScenario({**ssd_scenario.matrix, "detectors": [{**entry, "slow_splits": [30]}]},
                           ssd_scenario.context)
    marked = {(c["split"], c["coder_name"]): c.marks for c in scenario.cells() if c["coder_name"] != ANCHOR}
    assert marked == {(30, "raw"): ("slow",), (30, "fp16"): ("slow",), (90, "raw"): (), (90, "fp16"): ()}
    for slow, message in (([30, 90], "names every split"), ([50], r"slow_splits \['50'\] are not among")):
        with pytest.raises(ValueError, match=message):
            SsdScenario({**ssd_scenario.matrix, "detectors": [{**entry, "slow_splits": slow}]}, ssd_scenario.context)


def test_coders_at_add_cells_at_their_split_only(ssd_scenario) -> None:
    from harness.coders import make_coder
    from harness.scenarios.ssd import SsdScenario

    learnt = "learnt:prior=hyper,nr=16,lambda=0.02"
    entry = {"detector": "ssd_small", "dataset": "shapes50", "splits": [30, 90], "coders": ["raw"]}
    scenario = SsdScenario({**ssd_scenario.matrix, "detectors": [{**entry, "coders_at": {90: [learnt]}}]},
                           ssd_scenario.context)
    cells = {(c["split"], c["coder_name"]) for c in scenario.cells() if c["coder_name"] != ANCHOR}
    assert cells == {(30, "raw"), (90, "raw"), (90, make_coder(learnt).spec)}
    for extra, message in (({50: [learnt]}, "coders_at names split 50"), ({90: ["raw"]}, "repeats coder"),
                           ({90: [learnt, learnt]}, "repeats coder"), ([learnt], "must map a split")):
        with pytest.raises(ValueError, match=message):
            SsdScenario({**ssd_scenario.matrix, "detectors": [{**entry, "coders_at": extra}]}, ssd_scenario.context)


def test_one_pass_features_equal_part1(ssd_scenario, device, tolerances) -> None:
    for detector, dataset in detector_ids(ssd_scenario):
        reason = ssd_scenario.missing_reason(next(c for c in ssd_scenario.cells() if c["model_name"] == detector))
        if reason:
            continue
        meta = ssd_scenario.pipeline(detector, dataset, device).meta()
        for split in ssd_scenario.sweeps[(detector, dataset)][0]:
            assert meta["part1_max_abs_diff"][str(split)] <= tolerances["metrics"]["split_max_abs_diff"]["abs"], split


def test_recorded_matrix_discriminates(ssd_scenario, device) -> None:
    checked = 0
    for cell in ssd_scenario.cells():
        if cell["coder_name"] != ANCHOR or cell["device"] != device:
            continue
        anchor = get_reference(cell.reference_key)
        if anchor is None:
            continue
        same = [c for c in ssd_scenario.cells() if c.axes[:3] == cell.axes[:3] and c["coder_name"] != ANCHOR]
        refs = {(c["split"], c["coder_name"]): get_reference(c.reference_key) for c in same}
        assert all(refs.values()), f"cells without a reference: {[k for k, v in refs.items() if not v][:3]}"
        for (split, spec), ref in refs.items():
            if make_coder(spec).is_lossless:
                assert ref["calc_map"] == pytest.approx(anchor["calc_map"], abs=0.01), (split, spec)
        splits, coders = ssd_scenario.sweeps[(cell["model_name"], cell["data_set_name"])]
        families: dict[str, list] = {}
        for spec in coders:
            coder = make_coder(spec)
            if coder.rate_param:
                families.setdefault(coder.family, []).append(coder)
        for family, coders in families.items():
            coarsest = max(coders, key=lambda c: c.rate_sort_key())
            losses = [anchor["calc_map"] - refs[(s, coarsest.spec)]["calc_map"] for s in splits]
            if family.startswith("nncodec"):
                assert max(losses) >= 5.0, f"{coarsest.spec} never loses 5 calc_map points: {losses}"
        checked += 1
    if not checked:
        pytest.skip("no ssd references recorded for this device")
