"""One bit-incremental delivery end to end (§10.6.8 steps 2-5): the three streams, both clients, the timings.

    result = deliver(state, low_bits=8, high_bits=16, mode=UpdateMode.parse("exact"))
    result.sizes()            # {"low": ..., "update": ..., "high": ...} bytes
    result.states["low_plus_update"]   # float32 state_dict of the incremental client after the update

:func:`deliver_chain` sends a low model and a chain of exact updates (e.g. 4 -> 8 -> 16 bits).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping, Sequence

import numpy as np

from harness.bitinc.delivery import Client, Server, StreamTiming, UpdateMode
from harness.bitinc.timeline import Link, client_times, crossovers
from harness.coders.model_state import states_identical

STREAMS = ("low", "update", "high")
STATES = ("low", "low_plus_update", "high")


@dataclass
class Delivery:
    low_bits: int
    high_bits: int
    mode: UpdateMode
    quantise_seconds: float
    data: dict[str, bytes]  # STREAMS -> bitstream
    timing: dict[str, StreamTiming]  # STREAMS -> seconds
    states: dict[str, dict[str, np.ndarray]]  # STATES -> reconstructed state_dict
    steps: dict[str, dict[str, float]] = field(default_factory=dict)

    def sizes(self) -> dict[str, int]:
        return {name: len(self.data[name]) for name in STREAMS}

    def links(self) -> dict[str, Link]:
        return {name: Link(len(self.data[name]), self.timing[name].startup) for name in STREAMS}

    def times_at(self, mbps: float) -> dict[str, float]:
        links = self.links()
        return client_times(links["low"], links["update"], links["high"], mbps)

    def crossovers(self) -> dict[str, Any]:
        links = self.links()
        return crossovers(links["low"], links["update"], links["high"])

    def exact_match(self) -> bool:
        """low + update equals the direct model bit for bit (every tensor, dtype and value bits)."""
        return states_identical(self.states["low_plus_update"], self.states["high"])


def deliver(source: "Mapping[str, np.ndarray] | Server", low_bits: int, high_bits: int, mode: UpdateMode) -> Delivery:
    """Quantise (unless ``source`` is a server that did), encode low/update/high, run both clients on them.

    A :class:`Server` quantised at ``high_bits`` or above may be shared by several deliveries of one model: its
    model streams are encoded once (claim 1 of harness.coders.nested_grid makes them independent of the top
    precision)."""
    if low_bits >= high_bits:
        raise ValueError(f"--low-bits {low_bits} must be below --high-bits {high_bits}")
    server = source if isinstance(source, Server) else Server(source, high_bits)
    low, low_enc = server.model_stream(low_bits)
    high, high_enc = server.model_stream(high_bits)
    update, update_enc = server.update_stream(low_bits, high_bits, mode, base=low)

    incremental = Client()
    low_time = incremental.receive_model(low)
    low_state = dict(incremental.state)
    update_time = incremental.receive_update(update)
    anchor = Client()
    high_time = anchor.receive_model(high)
    return Delivery(
        low_bits, high_bits, mode, server.quantise_seconds,
        data={"low": low, "update": update, "high": high},
        timing={"low": _with_encode(low_time, low_enc), "update": _with_encode(update_time, update_enc),
                "high": _with_encode(high_time, high_enc)},
        states={"low": low_state, "low_plus_update": incremental.state, "high": anchor.state},
        steps=server.steps(low=low_bits, high=high_bits))


@dataclass
class Chain:
    bits: list[int]
    data: list[bytes]  # low model, then one update per step
    states: list[dict[str, np.ndarray]]  # the incremental client's state after each stream
    direct: dict[str, np.ndarray]  # the anchor client's state from the direct top-precision stream
    direct_bytes: int


def deliver_chain(state: Mapping[str, np.ndarray], bits: Sequence[int]) -> Chain:
    """A low model at ``bits[0]`` and exact updates through ``bits[1:]``; each update names the stream before."""
    bits = [int(b) for b in bits]
    if len(bits) < 2 or any(a >= b for a, b in zip(bits, bits[1:])):
        raise ValueError(f"chain {bits}: needs two or more strictly increasing bit widths, e.g. 4,8,16")
    server = Server(state, bits[-1])
    client = Client()
    data = [server.model_stream(bits[0])[0]]
    client.receive_model(data[0])
    states = [dict(client.state)]
    for base_bits, top in zip(bits, bits[1:]):
        data.append(server.update_stream(base_bits, top, UpdateMode("exact"), base=data[-1])[0])
        client.receive_update(data[-1])
        states.append(dict(client.state))
    direct, anchor = server.model_stream(bits[-1])[0], Client()
    anchor.receive_model(direct)
    return Chain(bits, data, states, anchor.state, len(direct))


def _with_encode(timing: StreamTiming, encode: float) -> StreamTiming:
    return StreamTiming(encode=encode, decode=timing.decode, reconstruct=timing.reconstruct)
