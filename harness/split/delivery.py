"""The delivery model of a split configuration (seed 001 §10.2.2, §10.3.7): where a split pays off.

* transmission time of the data sent at an uplink bandwidth: ``bytes x 8 / bandwidth`` plus an optional
  round-trip time (the seed leaves network latency out for reproducibility, §10.3.5, so the default is 0);
* end-to-end latency = part 1 (device) + encode + transmission + decode + part 2 (network), each a median;
* the best configuration per bandwidth (lowest end-to-end latency; on a tie the smaller k, which keeps less
  work on the device), beside the anchors "all on the device" (k = N: only the outputs are sent),
  "all in the network" (k = 0: the input is uploaded) and "first layers on the device" (k = privacy layers:
  the input never leaves the device, §10.3.5 anchor 3);
* the download time of the part-1 model from the network to the device at a downlink bandwidth (§10.2.2).

The result of :func:`sweep_summary` is the JSON of ``python -m harness sweep-splits`` and what the plots of
harness.report.sweep_plots draw; bandwidths are Mbit/s (10^6 bit/s), times milliseconds.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Sequence


def transmission_ms(nbytes: int, bandwidth_mbps: float, rtt_ms: float = 0.0) -> float:
    """Time to send ``nbytes`` at ``bandwidth_mbps`` plus ``rtt_ms`` (nothing to send costs nothing)."""
    if bandwidth_mbps <= 0:
        raise ValueError(f"bandwidth {bandwidth_mbps!r} Mbit/s: must be > 0")
    if rtt_ms < 0:
        raise ValueError(f"round-trip time {rtt_ms!r} ms: must be >= 0")
    return 0.0 if nbytes == 0 else nbytes * 8 / (bandwidth_mbps * 1e6) * 1e3 + rtt_ms


@dataclass(frozen=True)
class ConfigCost:
    """What one configuration costs apart from the network: medians in ms, and the bytes it sends."""

    k: int
    part1_ms: float
    encode_ms: float
    sent_bytes: int
    decode_ms: float
    part2_ms: float


def latency_rows(costs: Sequence[ConfigCost], bandwidths: Sequence[float], rtt_ms: float = 0.0) -> list[dict]:
    """One row per configuration and bandwidth: the stages and their total."""
    rows = []
    for bandwidth in bandwidths:
        for cost in costs:
            send = transmission_ms(cost.sent_bytes, bandwidth, rtt_ms)
            total = cost.part1_ms + cost.encode_ms + send + cost.decode_ms + cost.part2_ms
            rows.append({"k": cost.k, "bandwidth_mbps": bandwidth, "part1_ms": cost.part1_ms,
                         "encode_ms": cost.encode_ms, "transmission_ms": send, "decode_ms": cost.decode_ms,
                         "part2_ms": cost.part2_ms, "total_ms": total})
    return rows


def best_per_bandwidth(rows: Sequence[dict]) -> dict[str, int]:
    """``{"<bandwidth>": k}`` of the lowest total per bandwidth (smaller k on a tie)."""
    best: dict[str, tuple[float, int]] = {}
    for row in rows:
        key = bandwidth_key(row["bandwidth_mbps"])
        candidate = (row["total_ms"], row["k"])
        if key not in best or candidate < best[key]:
            best[key] = candidate
    return {key: k for key, (_, k) in best.items()}


def bandwidth_key(bandwidth: float) -> str:
    """JSON key of a bandwidth: ``"10"`` for 10.0, ``"2.5"`` for 2.5."""
    return f"{bandwidth:g}"


def anchors(layers: int, privacy_layers: int = 1) -> dict[str, int]:
    """The anchors of §10.2.5 and §10.3.5 as configurations."""
    if not 0 < privacy_layers <= layers:
        raise ValueError(f"privacy anchor of {privacy_layers} layer(s): use 1..{layers}")
    return {"all_on_device": layers, "all_in_network": 0, "first_layers_on_device": privacy_layers}


def download_ms(model_bytes: int, downlink_mbps: float) -> float:
    """Delivery of the part-1 model from the network to the device (no round trip)."""
    return transmission_ms(model_bytes, downlink_mbps)


def sweep_summary(layers: int, configs: Sequence[dict], costs: Sequence[ConfigCost], bandwidths: Sequence[float],
                  rtt_ms: float = 0.0) -> dict[str, Any]:
    """The sweep JSON: ``layers``, ``configs``, ``bandwidths_mbps``, ``latency`` (k, bandwidth, transmission,
    total) and ``best`` per bandwidth. ``configs`` rows are passed through as given."""
    rows = latency_rows(costs, bandwidths, rtt_ms)
    return {
        "layers": layers,
        "configs": list(configs),
        "bandwidths_mbps": list(bandwidths),
        "latency": [{key: row[key] for key in ("k", "bandwidth_mbps", "transmission_ms", "total_ms")} for row in rows],
        "best": best_per_bandwidth(rows),
    }
