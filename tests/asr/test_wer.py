"""Corpus WER (seed 001 §10.1.7) and the ``wer`` command."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import jiwer
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from harness.asr.evaluate import word_error_rate
from harness.cli import main

pytestmark = pytest.mark.asr


def test_known_answer() -> None:
    # one substitution (B->X) and one insertion (E) over 4 reference words
    result = word_error_rate(["A B C D"], ["A X C D E"])
    assert (result.substitutions, result.deletions, result.insertions, result.reference_words) == (1, 0, 1, 4)
    assert result.wer == 0.5


def test_totals_not_mean_of_rates() -> None:
    # utterance rates 1/1 and 0/9; the seed's total is 1/10, a mean of rates would give 0.5
    result = word_error_rate(["A", "B C D E F G H I J"], ["X", "B C D E F G H I J"])
    assert result.wer == pytest.approx(0.1)


words = st.lists(st.sampled_from(["THE", "CAT", "SAT", "ON", "A", "MAT", "DOG"]), min_size=1, max_size=12)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(words, st.lists(st.sampled_from(["THE", "CAT", "SAT", "RAN", "MAT"]), max_size=12)),
                min_size=1, max_size=5))
def test_matches_jiwer_and_counts_add_up(pairs: list[tuple[list[str], list[str]]]) -> None:
    refs = [" ".join(r) for r, _ in pairs]
    hyps = [" ".join(h) for _, h in pairs]
    result = word_error_rate(refs, hyps)
    assert result.reference_words == sum(len(r) for r, _ in pairs)
    assert result.wer == pytest.approx(jiwer.wer(refs, hyps))
    assert result.wer == pytest.approx((result.substitutions + result.deletions + result.insertions)
                                       / result.reference_words)


def write(path: Path, lines: list[str]) -> Path:
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_cli_prints_json(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    ref = write(tmp_path / "ref.txt", ["1-1-0001 A B C D", "1-1-0002 E F"])
    hyp = write(tmp_path / "hyp.txt", ["1-1-0002 E F", "1-1-0001 A X C D E"])  # matched by id, not order
    assert main(["wer", "--ref", str(ref), "--hyp", str(hyp)]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out == {"wer": 2 / 6, "substitutions": 1, "deletions": 0, "insertions": 1, "reference_words": 6}


@pytest.mark.parametrize("hyp_lines, message", [
    (["1-1-0001 A B"], "no line for utterance 1-1-0002"),
    (["1-1-0001 A B", "1-1-0002 C", "1-1-0003 D"], "has utterance 1-1-0003"),
])
def test_cli_rejects_unmatched_ids(tmp_path: Path, hyp_lines: list[str], message: str) -> None:
    ref = write(tmp_path / "ref.txt", ["1-1-0001 A B", "1-1-0002 C"])
    hyp = write(tmp_path / "hyp.txt", hyp_lines)
    proc = subprocess.run([sys.executable, "-m", "harness", "wer", "--ref", str(ref), "--hyp", str(hyp)],
                          capture_output=True, text=True)
    assert proc.returncode == 1
    assert proc.stderr.count("\n") == 1 and proc.stderr.startswith("error: ") and message in proc.stderr
    assert proc.stdout == ""


def test_cli_missing_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    ref = write(tmp_path / "ref.txt", ["1-1-0001 A B"])
    assert main(["wer", "--ref", str(ref), "--hyp", str(tmp_path / "nope.txt")]) == 1
    assert "nope.txt" in capsys.readouterr().err
