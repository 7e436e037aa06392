"""Split inference for object detection (seed 000, seed 001 §10.3): the one home of detection.

``ssd``: SSD building blocks (default boxes, pre-/post-processing, loss) and the embedded ``ssd_small`` network.
``detectors``: a registered detector is a trained ONNX model plus its pre- and post-processing (DETECTORS).
``datasets``: COCO-format evaluation sets (the embedded generated sets, COCO val2017 with a selection list).
``inference``: the one detector loop (read, pre-process, run, post-process) every caller goes through.
``selection``: seed 000's selection of the first N images on which the anchor is perfect.
``pipeline``: part 1 (cached, one pass for every split point), encode, decode, part 2, post-processing and
metrics, one cell as a per-image map (``cells``: CellPartial) and a reduce (CellResult).

Data readers and generators (synthetic shapes, COCO folders, SFU-HW-Objects) live in harness.datasets,
architecture builders with seeded weights in harness.models, every --data-dir path in references/assets.yaml.
"""
