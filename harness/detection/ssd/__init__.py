"""SSD building blocks: default boxes and box coding, pre-processing, numpy post-processing (decode,
softmax, per-class NMS), the multibox training loss and the embedded ``ssd_small`` network.

They follow NVIDIA's ssd_resnet (DeepLearningExamples SSD300) in structure and naming; ``ssd_small`` is that
architecture scaled down to the synthetic-shapes dataset so that it trains on one CPU thread. The user's
ssd_resnet.onnx uses the same post-processing with NVIDIA's 300x300 default boxes (harness.detection.detectors).
"""
