"""The embedded SSD-style detector: model definition, default boxes, box coding, loss and numpy post-processing.

Mirrors NVIDIA's ssd_resnet (DeepLearningExamples SSD300) in structure and naming, scaled down to the
synthetic-shapes dataset so that it trains on one CPU thread.
"""
