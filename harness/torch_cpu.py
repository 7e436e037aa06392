"""torch on the CPU with the same floating-point results in every process.

torch splits a convolution or a reduction over its intra-op threads, and the thread count changes the order of
the partial sums, so the last bits of a result depend on how many threads the process has: its default (the
machine's cores), or whatever an earlier test in the same pytest-xdist worker set (``torch.set_num_threads`` is
process-wide). Code whose output is gated (a coder's bytes, a re-trained model's weights) runs in
:func:`torch_threads`, which fixes the count and restores the previous one afterwards.
"""
from __future__ import annotations

from contextlib import contextmanager
from typing import Any, Iterator


@contextmanager
def torch_threads(count: int = 1) -> Iterator[Any]:
    """torch (the module) with ``count`` intra-op threads inside the block; the previous count restored after."""
    import torch

    previous = torch.get_num_threads()
    torch.set_num_threads(count)
    try:
        yield torch
    finally:
        torch.set_num_threads(previous)
