"""Submissions: a run of the ssd_small cells of matrix/ssd.yaml packed, checked, compared against its own folder,
and refused by name when tampered in each way check-submission knows (with SHA256SUMS rewritten to match, so
every check but the sums one has to hold on its own)."""
from __future__ import annotations

import json
import zipfile

import pytest

from harness.cli import main
from harness.report.html import build_report
from harness.results import write_results
from harness.submission.archive import SUMS, Submission, sums_text
from harness.submission.check import check
from harness.submission.pack import pack

from report.runs import SUITE_ENVIRONMENT, suite_run_rows


@pytest.fixture(scope="module", autouse=True)
def _no_figures():
    """Figures are the report tests' business and take most of a report's time: left out here."""
    from harness.report.figures import FIGURES, figures_for

    figures_for("", [])  # the report's plug-ins register once per process: before the registry is emptied
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(FIGURES, "_entries", {})
        yield


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    folder = tmp_path_factory.mktemp("run")
    write_results(suite_run_rows(), folder, SUITE_ENVIRONMENT)
    return folder


@pytest.fixture(scope="module")
def packed(run):
    return pack(run, "ACME Labs")


@pytest.fixture(scope="module")
def zipped(packed, tmp_path_factory):
    path = tmp_path_factory.mktemp("sub") / "acme.zip"
    packed.write(path)
    return path


def tampered(sub: Submission, changes: dict, resum: bool = True) -> Submission:
    files = {**sub.files, **{k: v for k, v in changes.items() if v is not None}}
    files = {k: v for k, v in files.items() if changes.get(k, b"") is not None}
    if resum:
        files[SUMS] = sums_text(files).encode()
    return Submission("tampered", files)


def kinds(sub: Submission) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for problem in check(sub)[0]:
        out.setdefault(problem.kind, []).append(problem.detail)
    return out


def rows_json(sub: Submission) -> dict:
    return json.loads(sub.files["results/results.json"])


def rewrite_results(sub: Submission, tmp_path, mutate, report: bool = True) -> dict:
    """results.csv + results.json rewritten consistently from mutated rows; the report too when asked."""
    payload = rows_json(sub)
    mutate(payload["rows"])
    write_results(payload["rows"], tmp_path, payload["environment"])
    changes = {"results/results.csv": (tmp_path / "results.csv").read_bytes(),
               "results/results.json": (tmp_path / "results.json").read_bytes()}
    if report:
        changes["results/report.html"] = build_report(tmp_path, assets=json.loads(sub.files["assets.json"]),
                                                      figures=False).encode()
    return changes


def test_submission_of_a_run_is_accepted_and_agrees_with_its_folder(run, zipped, capsys):
    names = set(zipfile.ZipFile(zipped).namelist())
    assert names == {"SHA256SUMS", "submission.json", "environment.json", "assets.json", "matrix/ssd.yaml",
                     "results/results.csv", "results/results.json", "results/report.html"}
    assert main(["check-submission", str(zipped)]) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[-1] == "submission accepted"
    assert "ssd_resnet/coco50/cpu: not run" in out  # a group the embedded run cannot run is a note, not a refusal
    assert main(["compare", str(zipped), str(run)]) == 0
    assert capsys.readouterr().out.splitlines()[-1].startswith(f"runs agree (same-platform tolerances): {len(suite_run_rows())} cells compared, "
                                                               "0 breaches")


def test_submission_bytes_are_deterministic(run, packed):
    assert pack(run, "ACME Labs").to_bytes() == packed.to_bytes()


def test_sums_catch_a_changed_file(packed):
    sub = tampered(packed, {"results/results.csv": packed.files["results/results.csv"].replace(b"87.19", b"88.19", 1)},
                   resum=False)
    found = kinds(sub)
    assert "results/results.csv does not match its sha256 in SHA256SUMS" in found["checksum"]
    assert any("results.csv and results.json disagree" in d for d in found["inconsistent"])


def test_unlisted_and_absent_files_are_named(packed):
    sub = Submission("t", {**packed.files, "extra.txt": b"hello"})
    assert kinds(sub)["checksum"] == ["extra.txt is not listed in SHA256SUMS"]
    sub = Submission("t", {k: v for k, v in packed.files.items() if k != "assets.json"})
    found = kinds(sub)
    assert found["checksum"] == ["assets.json is listed in SHA256SUMS but absent"]
    assert found["missing-file"] == ["assets.json is absent"]


def test_csv_and_json_disagreeing_is_refused_with_rewritten_sums(packed, tmp_path):
    changes = rewrite_results(packed, tmp_path, lambda rows: rows[5].update(rec_perf=rows[5]["rec_perf"] + 1))
    del changes["results/results.json"], changes["results/report.html"]  # only the CSV carries the change
    found = kinds(tampered(packed, changes))
    assert set(found) == {"inconsistent"}
    assert any("results.csv and results.json disagree on 1 cell(s)" in d for d in found["inconsistent"])


def test_report_disagreeing_with_results_is_refused(packed, tmp_path):
    # better numbers written consistently into both results files, the report left as it was
    changes = rewrite_results(packed, tmp_path, lambda rows: rows[9].update(rec_perf=99.5), report=False)
    found = kinds(tampered(packed, changes))
    assert set(found) == {"inconsistent"}
    assert any("report.html and results.json" in d and "rec_perf" in d and "99.5" in d for d in found["inconsistent"]), found


def test_changed_matrix_is_refused(packed):
    matrix = packed.files["matrix/ssd.yaml"].replace(b"  - nncodec:qp=16\n", b"")
    assert matrix != packed.files["matrix/ssd.yaml"]
    found = kinds(tampered(packed, {"matrix/ssd.yaml": matrix}))
    assert list(found) == ["matrix"] and "matrix/ssd.yaml differs from the suite's" in found["matrix"][0]


def test_missing_cell_is_refused_even_when_everything_else_agrees(packed, tmp_path):
    dropped = []
    changes = rewrite_results(packed, tmp_path, lambda rows: dropped.append(rows.pop(3)))
    found = kinds(tampered(packed, changes))
    assert list(found) == ["incomplete"]
    cell = dropped[0]["test_id"].split("[", 1)[1][:-1]
    assert found["incomplete"] == [f"ssd ssd_small/shapes50_selected/cpu: 1 cell(s) missing: {cell}"]


def test_cell_outside_the_matrix_is_refused(packed, tmp_path):
    def add(rows):
        row = next(r for r in rows if "qp=-38" in r["coder_name"])
        rows.append(dict(row, test_id=row["test_id"].replace("qp=-38", "qp=-40"),
                         coder_name=row["coder_name"].replace("qp=-38", "qp=-40")))

    found = kinds(tampered(packed, rewrite_results(packed, tmp_path, add)))
    assert list(found) == ["matrix"] and "1 cell(s) of ssd are not in the suite's matrix" in found["matrix"][0]


@pytest.mark.parametrize("change,kind,text", [
    ({"environment.json": None}, "missing-file", "environment.json is absent"),
    ({"environment.json": b'{"cpu": "x", "packages": {"numpy": "1"}}'}, "environment",
     "environment.json lacks gpu, driver, onnxruntime_providers, suite"),
    ({"assets.json": b"[]"}, "assets", "assets.json lists no asset md5s"),
    ({"assets.json": b'[{"name": "ssd_small", "status": "ok", "actual_md5": null, "message": "present"}]'},
     "assets", "asset ssd_small is present but records no md5"),
    ({"submission.json": b'{"organisation": " ", "suite": {}}'}, "info", "submission.json names no organisation"),
], ids=["no-environment", "environment-lacks-facts", "no-assets", "asset-without-md5", "no-organisation"])
def test_missing_facts_are_refused_by_name(packed, change, kind, text):
    found = kinds(tampered(packed, change))
    assert text in found.get(kind, []), found


def test_environment_must_be_the_one_the_run_recorded(packed):
    env = json.loads(packed.files["environment.json"])
    env["cpu"] = "A faster CPU"
    found = kinds(tampered(packed, {"environment.json": json.dumps(env).encode()}))
    assert found == {"inconsistent": ["environment.json differs from the environment results.json recorded in cpu"]}


def test_cli_refuses_with_one_line_per_problem_and_compare_does_not_trust_it(packed, run, tmp_path, capsys):
    bad = tmp_path / "bad.zip"
    tampered(packed, {"matrix/ssd.yaml": b"scenario: ssd\n", "assets.json": b"[]"}).write(bad)
    assert main(["check-submission", str(bad)]) == 3
    lines = capsys.readouterr().out.splitlines()
    assert [line.split(":")[0] for line in lines if not line.startswith("note")] == ["matrix", "assets",
                                                                                      "submission refused"]
    assert main(["compare", str(run), str(bad)]) == 3
    out = capsys.readouterr().out
    assert "REFUSED B (bad.zip) matrix:" in out and "0 breaches" in out


def test_not_a_submission_is_a_one_line_error(tmp_path, capsys):
    (tmp_path / "x.zip").write_bytes(b"not a zip")
    assert main(["check-submission", str(tmp_path / "x.zip")]) == 1
    assert capsys.readouterr().err.startswith("error: ") and True
    with zipfile.ZipFile(tmp_path / "slip.zip", "w") as archive:
        archive.writestr("../evil.txt", "x")
    assert main(["check-submission", str(tmp_path / "slip.zip")]) == 1
    assert "unsafe member name '../evil.txt'" in capsys.readouterr().err


def test_submit_refuses_an_incomplete_run_and_writes_nothing(tmp_path, capsys):
    folder = tmp_path / "partial"
    write_results(suite_run_rows()[:-10], folder, SUITE_ENVIRONMENT)
    out = tmp_path / "partial.zip"
    assert main(["submit", str(folder), "--organisation", "ACME", "--out", str(out)]) == 1
    err = capsys.readouterr().err
    assert "incomplete: ssd ssd_small/shapes50_selected/cpu" in err and not out.exists()
    assert main(["submit", str(folder), "--organisation", "ACME", "--out", str(tmp_path / "x.tar")]) == 1
