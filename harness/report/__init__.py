"""Cross-check reporting from a results folder (or a submission) alone.

``html`` assembles report.html from ``header`` (environment, asset md5s), ``tables`` (summary, full and
structure tables, coders legend, slowest), ``pivot`` (seed 000-shaped tables per scenario), ``bd_section``
(Bjontegaard tables; numbers from ``curves`` and ``bd``) and ``figures`` (the figure registry; seed figures
drawn by ``plots``; plug-ins such as ``sweep_plots`` register there). ``describe`` reads coder and metric
declarations; ``readback`` reads a report back for check-submission; ``compare`` diffs two runs.
"""
