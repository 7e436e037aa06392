"""A toy coder registered from outside the package (copied into a temporary directory by the plumbing test)."""
import numpy as np

from harness.coders.base import CODERS, Coder, Param


@CODERS.register("toyround")
class ToyRound(Coder):
    """Rounds to a multiple of 2^-step: a lossy toy with a rate parameter."""

    name = "toyround"
    rate_param = "step"
    params = (Param("step", int, 4, low=0, high=20),)

    def encode_array(self, array):
        return np.round(array * 2.0 ** self.values["step"]).astype("<i8").tobytes()

    def decode_array(self, payload, shape):
        return (np.frombuffer(payload, "<i8").reshape(shape) / 2.0 ** self.values["step"]).astype(np.float32)
