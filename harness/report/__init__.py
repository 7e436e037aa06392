"""Cross-check reporting from a results folder (or a submission) alone.

``html`` assembles report.html from ``header`` (environment, asset md5s), ``tables`` (summary, full and
structure tables, coders legend, slowest), ``pivot`` (seed 000-shaped tables per scenario), ``bd_section``
(Bjontegaard tables; numbers from ``curves`` and ``bd``; the BD-KBPI-mAP page section from ``bd_kbpi``) and
``figures`` (the registries of figures and page sections; seed figures drawn by ``plots``; plug-ins such as
``sweep_plots`` and ``throughput`` register there). ``load`` finds a run's results (parsing and typing are
harness.results's); ``describe`` reads coder and metric declarations; ``readback`` reads a report back for
check-submission.

This package reads results only: it imports no scenario at module level (nor torch) and nothing of
harness.submission, which builds on it (packing a report, checking it, comparing runs).
"""
