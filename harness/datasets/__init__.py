"""Data sets on disk, for every task: generated (synthetic shapes), written and read (COCO-format folders),
read (SFU-HW-Objects ground truth, LibriSpeech). Where a real data set lives under ``--data-dir`` is the
manifest's (references/assets.yaml, resolved by harness.assetstore.paths); the detection evaluation sets
built on these readers are registered in harness.detection.datasets.
"""
