"""Split inference for object detection (seed 000, seed 001 §10.3): detectors, datasets and the pipeline.

``detectors``: a registered detector is an ONNX model plus its pre- and post-processing.
``datasets``: COCO-format evaluation sets (the embedded generated set, COCO val2017 with a selection list).
``pipeline``: part 1 (cached, one pass for every split point), encode, decode, part 2, post-processing,
metrics in the three styles of :mod:`harness.metrics`.
"""
