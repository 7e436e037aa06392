"""Intermediate-data coders: ``raw``, ``fp16``, ``nncodec``, ``qlayer`` (one module each), behind one interface.

    coder = make_coder("nncodec:qp=-26")
    data = coder.encode({"features": x})      # self-describing container; len(data) is the full size
    decoded = decode_any(data)                # picks the coder named inside the container

A new coder is one module in this package that subclasses :class:`Coder` and registers with ``@CODERS.register``,
or a module of another distribution named by its entry point in the group ``harness.coders``.
"""
from harness.coders.base import CODERS, Coder, Param, container_spec, decode_any, make_coder, parse_spec
from harness.coders.container import BitstreamError
from harness.registry import import_submodules, load_entry_points

import_submodules(__name__)
# plug-ins of other distributions (a member company's wheel): entry point group "harness.coders"
load_entry_points("harness.coders", CODERS)

__all__ = ["CODERS", "BitstreamError", "Coder", "Param", "container_spec", "decode_any", "make_coder", "parse_spec"]
