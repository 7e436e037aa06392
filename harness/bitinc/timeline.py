"""Delivery over a downlink: time to first inference and to full accuracy, and where bit-incremental wins.

Beyond the seed (its table 10.6.14 gives sizes and start-up latencies separately), a client's times at a
downlink bandwidth R (Mbit/s), streams sent one after the other with nothing else on the link::

    transmission(stream) = bytes * 8 / (R * 10^6)                              seconds
    incremental: first inference = latency(low) + transmission(low)
                 full accuracy   = first inference + latency(update) + transmission(update)
    direct:      first inference = full accuracy = latency(high) + transmission(high)

latency = encode + decode + reconstruct seconds of the stream (§10.6.7 start-up latency). Each comparison is
t_a(R) - t_b(R) = dl + 8 db / (R 10^6) with dl, db the latency and byte differences, which changes sign at
most once, at the crossover R* = 8 (-db) / (dl 10^6); :func:`crossover` says on which side a wins.
"""
from __future__ import annotations

from dataclasses import dataclass


def transmission_seconds(nbytes: int, mbps: float) -> float:
    """bytes x 8 / bandwidth, through the suite's one transmission formula (harness.split.delivery)."""
    from harness.split.delivery import transmission_ms

    return transmission_ms(nbytes, mbps) / 1e3


@dataclass(frozen=True)
class Link:
    """One stream as the link sees it: bytes and start-up latency (seconds)."""

    nbytes: int
    latency: float

    def seconds(self, mbps: float) -> float:
        return self.latency + transmission_seconds(self.nbytes, mbps)


def client_times(low: Link, update: Link, high: Link, mbps: float) -> dict[str, float]:
    """Times (s) of both clients at ``mbps``: incremental first/full, direct (first = full)."""
    first = low.seconds(mbps)
    return {"incremental_first_s": first, "incremental_full_s": first + update.seconds(mbps),
            "direct_s": high.seconds(mbps)}


@dataclass(frozen=True)
class Crossover:
    """Where the incremental client (a) beats the direct one (b): ``wins`` is ``below``/``above`` the
    bandwidth ``mbps``, or ``always``/``never`` (then ``mbps`` is None)."""

    wins: str
    mbps: float | None = None

    def describe(self) -> str:
        return f"wins {self.wins} {self.mbps:.4g} Mbit/s" if self.mbps is not None else f"wins {self.wins}"


def crossover(a: Link, b: Link) -> Crossover:
    """Bandwidths at which ``a`` delivers in less time than ``b``."""
    dl, db = a.latency - b.latency, a.nbytes - b.nbytes
    if db == 0 or (db < 0 and dl <= 0) or (db > 0 and dl >= 0):
        return Crossover("always" if (dl < 0 or (dl == 0 and db < 0)) else "never")
    point = 8 * abs(db) / (abs(dl) * 1e6)
    return Crossover("below" if db < 0 else "above", point)


def crossovers(low: Link, update: Link, high: Link) -> dict[str, Crossover]:
    """First inference (low vs high) and full accuracy (low then update vs high)."""
    both = Link(low.nbytes + update.nbytes, low.latency + update.latency)
    return {"first_inference": crossover(low, high), "full_accuracy": crossover(both, high)}
