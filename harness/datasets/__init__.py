"""Datasets the suite can generate or read (synthetic shapes, COCO-format export)."""
