"""Cross-check reporting from a results folder alone: Bjontegaard deltas (``bd``), RD curves per split and
codec family (``curves``), run-to-run comparison (``compare``), plots (``plots``) and ``report.html``
(``html``)."""
