"""Post-training INT8 quantization with onnxruntime's quantizer (``onnxruntime.quantization``).

``static``: QDQ format, per-channel int8 weights and uint8 activations, scales calibrated on N input feeds (min-max
or percentile calibration; the same feeds give the same scales and bytes); ``dynamic``: int8 weights, activation
scales computed at run time (no calibration data). The model is prepared first (harness.models.prepare, opset 13
at least: per-channel QDQ needs it).
"""
from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Sequence

import numpy as np

from harness.derive import Derived
from harness.files import atomic_write
from harness.models.prepare import prepare_model, save_prepared

MODES = ("static", "dynamic")
CALIBRATIONS = ("minmax", "percentile")


def quantize(model: Path, out: Path, mode: str = "static", calibration: Sequence[dict[str, np.ndarray]] = (),
             calibrate: str = "minmax", per_channel: bool = True) -> Derived:
    """Write the INT8 model of ``model`` to ``out``; ``calibration``: the feeds of static quantization."""
    from onnxruntime.quantization import (CalibrationDataReader, CalibrationMethod, QuantFormat, QuantType,
                                          quantize_dynamic, quantize_static)

    if mode not in MODES:
        raise ValueError(f"quantization mode {mode!r}: use one of {', '.join(MODES)}")
    if calibrate not in CALIBRATIONS:
        raise ValueError(f"calibration {calibrate!r}: use one of {', '.join(CALIBRATIONS)}")
    if mode == "static" and not calibration:
        raise ValueError("static quantization needs calibration data: give --calibration DIR (.npz files of the "
                         "model's inputs by input name) or use --mode dynamic")
    prepared, done = prepare_model(model, opset=None)
    opset = done["opset"] or 13
    if opset < 13:
        prepared, done = prepare_model(prepared, opset=13)
    with tempfile.TemporaryDirectory(prefix="quantize-") as folder:
        source = Path(folder) / "prepared.onnx"
        save_prepared(prepared, source)
        target = Path(folder) / "quantized.onnx"
        if mode == "dynamic":
            quantize_dynamic(str(source), str(target), weight_type=QuantType.QInt8, per_channel=per_channel)
        else:
            feeds = iter(list(calibration))

            class Feeds(CalibrationDataReader):
                def get_next(self) -> dict[str, np.ndarray] | None:
                    return next(feeds, None)

            method = CalibrationMethod.Percentile if calibrate == "percentile" else CalibrationMethod.MinMax
            quantize_static(str(source), str(target), Feeds(), quant_format=QuantFormat.QDQ, per_channel=per_channel,
                            activation_type=QuantType.QUInt8, weight_type=QuantType.QInt8, calibrate_method=method)
        out = Path(out)
        data = target.read_bytes()
        atomic_write(out, lambda handle: handle.write(data))  # a complete file or none
    return Derived(out, f"qdq-{mode}" if mode == "static" else "dynamic",
                   {"calibration_feeds": len(calibration), "calibrate": calibrate if mode == "static" else None,
                    "prepared": done})
