"""Human pose estimation (seed 001 §10.2): PoseNet single-pose decoding and the test images."""
from harness.pose.decode import KEYPOINT_NAMES, Pose, decode_single_pose, poses_agree
from harness.datasets.pose_images import load_image
from harness.pose.preprocess import image_feed

__all__ = ["KEYPOINT_NAMES", "Pose", "decode_single_pose", "image_feed", "load_image", "poses_agree"]
