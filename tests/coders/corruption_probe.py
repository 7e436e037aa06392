"""Run as a script in a child interpreter: feed damaged variants of a bitstream to ``decode_any`` and print a
JSON tally. Running in a child process is what lets the tests see an interpreter crash (segfault, abort)
in a native decoder instead of dying with it.

    python corruption_probe.py BITSTREAM_FILE MODE [SEED]

MODE: ``truncate`` (every prefix shorter than the whole), ``flip`` (random byte flips), ``header`` (random
flips inside the header with the checksum recomputed, so only the structural checks can catch them),
``foreign`` (the file holds several foreign byte strings, NUL-separated hex).
"""
from __future__ import annotations

import json
import random
import struct
import sys
import zlib


def variants(data: bytes, mode: str, seed: int):
    rng = random.Random(seed)
    if mode == "truncate":
        for length in range(len(data)):
            yield f"first {length} bytes", data[:length]
    elif mode == "flip":
        for case in range(400):
            damaged = bytearray(data)
            for _ in range(rng.choice([1, 1, 2, 5])):
                damaged[rng.randrange(len(damaged))] ^= rng.randrange(1, 256)
            yield f"flip case {case}", bytes(damaged)
    elif mode == "header":
        (header_len,) = struct.unpack_from("<I", data, 5)
        for case in range(400):
            damaged = bytearray(data[:-4])
            damaged[rng.randrange(9, 9 + header_len)] ^= rng.randrange(1, 256)
            yield f"header case {case}", bytes(damaged) + struct.pack("<I", zlib.crc32(damaged))
    elif mode == "foreign":
        for index, chunk in enumerate(data.split(b"\n")):
            yield f"foreign {index}", bytes.fromhex(chunk.decode())
    else:
        raise SystemExit(f"unknown mode {mode!r}")


def main() -> None:
    path, mode = sys.argv[1], sys.argv[2]
    seed = int(sys.argv[3]) if len(sys.argv) > 3 else 0
    from harness.coders import BitstreamError, decode_any

    with open(path, "rb") as handle:
        data = handle.read()
    tally = {"cases": 0, "bitstream_error": 0, "decoded": 0, "other": []}
    for label, damaged in variants(data, mode, seed):
        tally["cases"] += 1
        try:
            decode_any(damaged)
            tally["decoded"] += 1
        except BitstreamError:
            tally["bitstream_error"] += 1
        except BaseException as exc:  # noqa: BLE001 - the point is to report anything else
            tally["other"].append(f"{label}: {type(exc).__name__}: {exc}")
    print(json.dumps(tally))


if __name__ == "__main__":
    main()
