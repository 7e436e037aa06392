"""The peak resident set of this process over a run (onnxruntime allocates in C++, out of tracemalloc's sight)."""
from __future__ import annotations

def _status_kib(field: str) -> int | None:
    try:
        with open("/proc/self/status", encoding="ascii") as handle:
            for line in handle:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except (OSError, ValueError):
        return None
    return None


def _trim_heap() -> None:
    import ctypes
    import ctypes.util

    try:
        ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):
        pass  # not glibc: the measurement may under-count, it is still a peak above a baseline


def reset_peak_rss() -> int | None:
    """Reset the kernel's resident-set high-water mark of this process (``/proc/self/clear_refs`` <- 5, Linux
    >= 4.0) and return the current resident set in bytes; None where that cannot be done.

    Why this and not tracemalloc: onnxruntime allocates weights and its arena in C++, which tracemalloc does
    not see. The peak resident set is what the seed's KPI "memory usage" means; measuring it in this process
    avoids one child process per part (import costs would dwarf the measurement). Memory freed earlier is
    first handed back to the kernel (glibc ``malloc_trim``), or a new session would reuse resident pages
    unseen."""
    _trim_heap()
    try:
        with open("/proc/self/clear_refs", "w", encoding="ascii") as handle:
            handle.write("5")
    except OSError:
        return None
    rss = _status_kib("VmRSS")
    return None if rss is None else rss * 1024


def peak_rss_since_reset(baseline: int | None) -> int | None:
    """Peak resident set (bytes) above ``baseline`` since :func:`reset_peak_rss`; None where not readable."""
    peak = _status_kib("VmHWM")
    return None if baseline is None or peak is None else max(0, peak * 1024 - baseline)
