"""Decoding a bitstream that another party wrote, in a worker process.

The container's checksum guards against damage, not against a crafted container whose CRC was recomputed
(harness.coders.container): such a payload was seen to crash NNCodec's native decoder, and with it the
interpreter. A bitstream from outside the run (the ``decode`` command) is therefore decoded by a persistent
worker process (one ``ProcessPoolExecutor`` worker, started with ``spawn`` so that it shares no native state
with the caller, kept for every later decode of the process rather than started per decode); if the worker
dies, the crash becomes a :class:`BitstreamError` naming the signal and the worker is replaced. The matrix
decodes its own bitstreams in process.
"""
from __future__ import annotations

import multiprocessing
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Any, Callable

import numpy as np

from harness.coders.base import decode_any
from harness.coders.container import BitstreamError

_WORKER: ProcessPoolExecutor | None = None


def _worker() -> ProcessPoolExecutor:
    global _WORKER
    if _WORKER is None:
        _WORKER = ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("spawn"))
    return _WORKER


def run_isolated(function: Callable[..., Any], *args: Any) -> Any:
    """``function(*args)`` in the worker process (both picklable); its exceptions come back as they were
    raised, a crash of the worker as BitstreamError."""
    global _WORKER
    try:
        return _worker().submit(function, *args).result()
    except BrokenProcessPool:
        _WORKER = None  # the next call starts a fresh worker
        raise BitstreamError("the decoder process died on this bitstream (a native decoder crashed on a payload "
                             "it cannot parse): the bitstream is corrupt or crafted") from None


def decode_untrusted(data: bytes) -> dict[str, np.ndarray]:
    """:func:`harness.coders.decode_any` of a bitstream from outside the run, in the worker process."""
    return run_isolated(decode_any, bytes(data))
