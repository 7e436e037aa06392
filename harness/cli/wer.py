"""``python -m harness wer --ref REF.txt --hyp HYP.txt``: corpus WER of two LibriSpeech-style transcript files.

Lines are ``<utterance-id> <TEXT>``, matched by id; an id in one file but not the other is an error.
Prints JSON: wer, substitutions, deletions, insertions, reference_words (jiwer's alignment counts).
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path

from harness.cli import UserError


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("wer", help="word error rate of a hypothesis transcript file against a reference")
    parser.add_argument("--ref", type=Path, required=True, help="reference trans.txt (<utterance-id> <TEXT> lines)")
    parser.add_argument("--hyp", type=Path, required=True, help="hypothesis file in the same format")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from harness.asr.evaluate import word_error_rate
    from harness.datasets.librispeech import DatasetError, read_transcripts

    try:
        ref, hyp = read_transcripts(args.ref), read_transcripts(args.hyp)
    except DatasetError as exc:
        raise UserError(str(exc)) from None
    missing = sorted(set(ref) - set(hyp))
    extra = sorted(set(hyp) - set(ref))
    if missing:
        raise UserError(f"{args.hyp} has no line for utterance {missing[0]} of {args.ref} ({len(missing)} missing)")
    if extra:
        raise UserError(f"{args.hyp} has utterance {extra[0]}, which {args.ref} lacks ({len(extra)} extra)")
    if not ref:
        raise UserError(f"{args.ref} holds no utterances")
    ids = sorted(ref)
    result = word_error_rate([ref[i] for i in ids], [hyp[i] for i in ids])
    print(json.dumps(result.to_dict(), sort_keys=True))
    return 0
