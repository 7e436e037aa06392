"""``nncodec``: Fraunhofer HHI NNCodec (ISO/IEC 15938-17 NNC) tensor coding through ``nncodec.tensor``.

Parameters (seed 000 sweeps ``qp`` over -38, -26, -18, -14, -10, -6, -4, 0; lower qp = finer step, more bytes):
  qp         quantisation parameter, -128..127 (NNCodec itself clips values whose step would overflow int32)
  dq         dependent (trellis-coded) quantisation, 1 = on (NNCodec default)
  param_opt  CABAC parameter optimisation, 1 = on (NNCodec default)
  row_skip   skip all-zero rows, 1 = on (NNCodec's tensor API default)
  bitdepth   0 = use qp; 1..31 = integer-aligned quantisation to that many bits (qp is then ignored)

Each floating tensor is coded as its own NNC bitstream. NNCodec treats tensors of fewer than two dimensions
as "non-weight" parameters coded at a fixed fine qp, so 0-D/1-D tensors are viewed as (1, n) to make qp apply
to every feature. ``nncodec.tensor.encode`` always writes a copy of the bitstream to a file: it goes to a
private temporary directory that is removed at once, never to the working directory; its console output is
swallowed. nncodec (and torch, which it imports) is loaded on first use only.
"""
from __future__ import annotations

import contextlib
import io
import tempfile

import numpy as np

from harness.coders.base import CODERS, Coder, Param
from harness.coders.container import BitstreamError


def nnc_shape(shape: tuple[int, ...]) -> tuple[int, ...]:
    """The shape NNCodec is given: at least 2-D (its tensor coder reads rows; 0-D/1-D become one row)."""
    return shape if len(shape) >= 2 else (1, int(np.prod(shape)))


@CODERS.register("nncodec")
class NNCodecCoder(Coder):
    name = "nncodec"
    rate_param = "qp"
    rate_increases_size = False  # a larger qp is a coarser step
    params = (
        Param("qp", int, -38, low=-128, high=127, help="quantisation parameter (seed 000: -38 ... 0)"),
        Param("dq", bool, True, help="dependent quantisation"),
        Param("param_opt", bool, True, help="CABAC parameter optimisation"),
        Param("row_skip", bool, True, help="row skipping of all-zero rows"),
        Param("bitdepth", int, 0, low=0, high=31, help="0: use qp; else integer-aligned n-bit quantisation"),
    )

    def encode_array(self, array: np.ndarray) -> bytes:
        import nncodec.tensor

        args = {
            "qp": self.values["qp"],
            "use_dq": self.values["dq"],
            "param_opt": self.values["param_opt"],
            "row_skipping": self.values["row_skip"],
            "bitdepth": self.values["bitdepth"] or None,
            "verbose": False,
        }
        with tempfile.TemporaryDirectory(prefix="harness-nnc-") as scratch, quiet_nncodec():
            stream = nncodec.tensor.encode(array.reshape(nnc_shape(array.shape)), args={**args, "results": scratch})
        return bytes(stream)

    def decode_array(self, payload: bytes, shape: tuple[int, ...]) -> np.ndarray:
        import nncodec.tensor

        try:
            with quiet_nncodec():
                decoded = nncodec.tensor.decode(bytearray(payload))
        except (Exception, SystemExit) as exc:  # nncodec signals bad input with SystemExit or assertions
            raise BitstreamError(f"corrupt nncodec payload: {type(exc).__name__}: {exc}") from None
        decoded = np.asarray(decoded)
        if decoded.dtype != np.float32 or decoded.size != int(np.prod(shape)):
            raise BitstreamError(f"corrupt nncodec payload: decoded {decoded.dtype} {decoded.shape}, "
                                 f"expected float32 {shape}")
        return decoded.reshape(shape)


@contextlib.contextmanager
def quiet_nncodec():
    """Swallow NNCodec's prints (INFO lines about clipped QPs etc.), which would garble CLI output."""
    sink = io.StringIO()
    with contextlib.redirect_stdout(sink), contextlib.redirect_stderr(sink):
        yield
