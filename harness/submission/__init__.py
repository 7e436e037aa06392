"""Cross-check submissions: one file a member company hands to another, checked before it is compared.

``python -m harness submit RESULTS_DIR --organisation NAME --out FILE.zip`` (:mod:`.pack`) writes a zip
(:mod:`.archive`) holding::

    submission.json          organisation, suite version (git commit or package version), scenarios, format
    environment.json         CPU, GPU, driver, onnxruntime providers, package versions, suite version
    assets.json              `assets verify` of the submitting machine: state and md5 of every asset
    results/results.csv      as the run wrote them
    results/results.json
    results/report.html      rebuilt from them
    matrix/<scenario>.yaml   the matrix file of every scenario present
    SHA256SUMS               sha256 of every other member (`sha256sum -c` format)

``python -m harness check-submission FILE.zip`` (:mod:`.check`) prints one line per problem and exits
non-zero when there is any; ``compare`` (:mod:`.compare`) accepts a submission wherever it accepts a results
folder and refuses to trust one that the checker refuses. The expected cells come from the checking suite
itself (:mod:`.suite`, which imports the scenario registry only when asked for cells).

This package builds on harness.report (the packed report, reading it back, a run's rows), never the other
way round; both read results files through harness.results.
"""
