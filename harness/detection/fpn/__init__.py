"""FPN detectors (RetinaNet): torchvision's detection models whose exported graph holds its own pre-processing
(normalise, resize) and post-processing (box decoding, NMS), as the 5G-MAG RetinaNet scripts export them."""
