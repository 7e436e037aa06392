"""FS_AI4Media conformance and cross-check harness (3GPP SA4).

Library packages: ``coders`` (intermediate-data and model codecs), ``split`` (ONNX split engine),
``models`` (architecture builders), ``datasets``, ``metrics``, ``scenarios``, ``results``.
"""
__version__ = "0.1.0"
