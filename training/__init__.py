"""What rebuilds the embedded models, shared by the training scripts under ``scripts/``: losses, the
compression-augmented fine-tuning of a part 2, checkpoints and learning-rate schedules.

Not part of the library the suite runs (``harness``): a conformance run never trains, so nothing in
``harness`` imports this package. It imports the library (models, coders, the split engine) like any user.
"""
