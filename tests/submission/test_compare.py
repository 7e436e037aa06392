"""``compare``: hand-made result folders with known differences."""
from __future__ import annotations

import json

from harness.cli import main
from harness.submission.compare import compare_runs

CELL = "ssd/ssd_resnet/shapes50/cpu/split=10/nncodec:qp=-26/calc_map"


def _set(column, value, coder="nncodec:qp=-26", split="10"):
    def mutate(rows):
        for row in rows:
            if row.get("coder_name") == coder and row.get("split") == split:
                row[column] = value(row[column]) if callable(value) else value
    return mutate


def test_identical_runs_agree(make_run, capsys):
    a, b = make_run("a"), make_run("b")
    assert main(["compare", str(a), str(b)]) == 0
    out = capsys.readouterr().out
    assert "runs agree (same-platform tolerances): 24 cells compared, 0 breaches" in out


def test_perturbed_cell_beyond_tolerance_is_named(make_run, capsys):
    a, b = make_run("a"), make_run("b", mutate=_set("rec_perf", lambda v: v + 0.6))  # calc_map abs 0.5
    assert main(["compare", str(a), str(b)]) == 3
    lines = capsys.readouterr().out.splitlines()
    breaches = [line for line in lines if line.startswith("BREACH")]
    assert len(breaches) == 1 and CELL in breaches[0] and "rec_perf" in breaches[0]


def test_perturbation_within_tolerance_passes(make_run):
    a, b = make_run("a"), make_run("b", mutate=_set("rec_perf", lambda v: v + 0.4))
    assert compare_runs(a, b).ok


def test_one_byte_of_size_is_a_breach(make_run):
    a, b = make_run("a"), make_run("b", mutate=_set("rec_size", lambda v: v + 1))
    result = compare_runs(a, b)
    assert [(x["cell"], x["column"]) for x in result.breaches] == [(CELL, "rec_size")]


def test_missing_cell_fails_and_is_reported(make_run, capsys):
    a = make_run("a")
    b = make_run("b", mutate=lambda rows: rows.pop(5))
    assert main(["compare", str(a), str(b), "--json"]) == 3
    out = json.loads(capsys.readouterr().out)
    assert out["ok"] is False and len(out["only_in_a"]) == 1 and out["only_in_b"] == []
    assert main(["compare", str(b), str(a)]) == 3
    assert "ONLY IN B" in capsys.readouterr().out


def test_status_and_nan_changes_are_breaches(make_run):
    a = make_run("a", mutate=_set("feature_nmse", float("nan"), coder="fp16"))
    b = make_run("b", mutate=lambda rows: (_set("status", "fail")(rows), _set("feature_nmse", 0.1, coder="fp16")(rows)))
    columns = sorted(x["column"] for x in compare_runs(a, b).breaches)
    assert columns == ["feature_nmse", "status"]  # fp16 at split 10: nan -> 0.1; nncodec qp=-26: pass -> fail


def test_times_are_not_compared(make_run):
    a, b = make_run("a"), make_run("b", mutate=_set("rec_eval_time", lambda v: v * 10))
    assert compare_runs(a, b).ok


def test_bad_folder_is_one_line_error(make_run, tmp_path, capsys):
    assert main(["compare", str(make_run("a")), str(tmp_path / "nope")]) == 1
    assert capsys.readouterr().err.startswith("error: results folder")


def test_other_columns_use_their_own_tolerance(make_run):
    # tolerances.yaml: mse rel 1e-6 -> a 1e-7 relative change passes, 1e-5 fails
    a = make_run("a", mutate=_set("mse", 1.0))
    assert compare_runs(a, make_run("b", mutate=_set("mse", 1.0 + 1e-7))).ok
    breaches = compare_runs(a, make_run("c", mutate=_set("mse", 1.0 + 1e-5))).breaches
    assert [(x["cell"], x["column"]) for x in breaches] == [(CELL, "mse")]


MACHINE_COLUMNS = {"part1_median_ms": 3.0, "e2e_ms_10": 40.0, "incremental_full_s@10mbps": 1.5,
                   "part2_peak_bytes": 1e6, "crossover_full_accuracy_mbps": 2.0, "max_abs_diff": 1e-7,
                   "low_encode_s": 0.2, "enc_time": 0.1, "part1_time_per_frame": 0.01}


def _with_machine_columns(scale: float):
    def mutate(rows):
        for index, row in enumerate(rows):
            row.update({column: value * scale * (1 + index) for column, value in MACHINE_COLUMNS.items()})
    return mutate


def test_machine_dependent_columns_are_listed_side_by_side_never_gated(make_run, capsys):
    a, b = make_run("a", mutate=_with_machine_columns(1.0)), make_run("b", mutate=_with_machine_columns(7.3))
    assert main(["compare", str(a), str(b)]) == 0
    info = [line for line in capsys.readouterr().out.splitlines() if line.startswith("info: ")]
    listed = {line.split()[1].rstrip(":") for line in info}
    assert set(MACHINE_COLUMNS) <= listed  # with the rows' own times (anc_eval_time, ...)
    assert all(column.endswith("_time") for column in listed - set(MACHINE_COLUMNS))
    assert all("not gated" in line for line in info)


def test_a_size_changed_by_five_percent_is_named_beside_machine_noise(make_run, capsys):
    a = make_run("a", mutate=_with_machine_columns(1.0))
    b = make_run("b", mutate=lambda rows: (_with_machine_columns(2.0)(rows),
                                           _set("rec_size", lambda v: round(v * 1.05))(rows)))
    assert main(["compare", str(a), str(b)]) == 3
    breaches = [line for line in capsys.readouterr().out.splitlines() if line.startswith("BREACH")]
    assert breaches and all("rec_size" in line for line in breaches)
    assert any(CELL.rsplit("/", 1)[0] in line for line in breaches)


def _on_platform(device):
    """Every row measured on ``device``; NNCodec rows code inferred features into a value-dependent length."""
    def mutate(rows):
        for row in rows:
            row["device"] = device
            row["sizes_follow_inference"] = row.get("coder_name", "").startswith("nncodec")
    return mutate


def test_cross_platform_pair_is_matched_without_the_device_and_judged_with_the_bands(tmp_path):
    from report.runs import ENVIRONMENT, detection_rows, write_run

    def run(name, device, size_factor=1.0):
        def mutate(rows):
            _on_platform(device)(rows)
            for row in rows:
                if row.get("coder_name") == "nncodec:qp=-26" and row.get("split") == "10":
                    row["rec_size"] = int(round(row["rec_size"] * size_factor))
        environment = {**ENVIRONMENT, "run": {"devices": [device], "platforms": [device]}}
        return write_run(tmp_path / name, detection_rows(), environment, mutate)

    cpu, cuda = run("cpu", "cpu"), run("cuda", "cuda", size_factor=1.005)
    automatic = compare_runs(cpu, cuda)  # the runs recorded different platforms: the bands, without the device
    assert automatic.ok and automatic.cross_platform and automatic.compared_cells == len(detection_rows())
    assert any("A ran on cpu, B on cuda" in note for note in automatic.notes)
    # forced onto one platform, the same pair matches no cell (their devices differ)
    same = compare_runs(cpu, cuda, cross_platform=False)
    assert not same.ok and len(same.only_in_a) == len(detection_rows())
    # a 0.5 % size change of a value-dependent stream: inside the 1 % band, outside the exact size tolerance
    cpu_again = run("cpu_again", "cpu", size_factor=1.005)
    assert not compare_runs(cpu, cpu_again).ok and compare_runs(cpu, cpu_again, cross_platform=True).ok
    beyond = compare_runs(cpu, run("cuda_far", "cuda", size_factor=1.02))
    assert [(b["column"]) for b in beyond.breaches] == ["rec_size"]


def test_cross_platform_on_the_command_line(make_run, capsys):
    a = make_run("a")
    b = make_run("b", mutate=_set("rec_perf", lambda v: v + 0.6))  # beyond 0.5 points, inside the 2.5-point band
    assert main(["compare", str(a), str(b)]) == 3
    assert main(["compare", str(a), str(b), "--cross-platform"]) == 0
    assert "runs agree (cross-platform bands)" in capsys.readouterr().out


def test_a_folder_whose_csv_and_json_disagree_is_refused(make_run, capsys):
    a, b = make_run("a"), make_run("b")
    csv_path = b / "results.csv"
    text = csv_path.read_text()
    first_data_line = text.splitlines()[1]
    csv_path.write_text(text.replace(first_data_line, first_data_line.replace("pass", "fail", 1), 1))
    assert main(["compare", str(a), str(b)]) == 1
    err = capsys.readouterr().err
    assert "results.csv and results.json disagree on 1 cell(s)" in err and str(b) in err


def test_digests_say_where_two_runs_part(make_run):
    def digests(part1, part2):
        def mutate(rows):
            for row in rows:
                if row.get("split") == "10" and row.get("coder_name") == "fp16":
                    row.update(part1_sha256=part1, part2_input_sha256=part2)
                elif row.get("split"):
                    row.update(part1_sha256="p", part2_input_sha256="q")
        return mutate

    a = make_run("a", mutate=digests("p", "q"))
    coder_parts = compare_runs(a, make_run("b", mutate=digests("p", "other")))
    assert coder_parts.ok  # digests are evidence, never a breach
    assert any("part 1 agrees but the decoded tensors differ in 1 cell(s)" in line for line in coder_parts.information)
    part1_parts = compare_runs(a, make_run("c", mutate=digests("other", "other")))
    assert any("part 1 differs in 1 cell(s)" in line for line in part1_parts.information)
