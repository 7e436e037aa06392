#!/usr/bin/env bash
# Idempotent setup: a virtual environment in .venv with the suite and its dependencies.
# torch/torchvision come first, pinned, so that pip takes the wheels on local disk where they exist
# instead of resolving a newer CUDA build from the registry.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON="${PYTHON:-python3.11}"
command -v "$PYTHON" >/dev/null || PYTHON=python3
if [ ! -x .venv/bin/python ]; then
    "$PYTHON" -m venv .venv
fi
PIP=(.venv/bin/python -m pip --disable-pip-version-check -q)
if ! .venv/bin/python -c "import torch, torchvision, torchaudio" 2>/dev/null; then
    "${PIP[@]}" install torch==2.14.1 torchvision==0.29.1
    "${PIP[@]}" install --no-deps torchaudio==2.11.0
fi
# CompressAI (the learnt feature coders' entropy models and range coder): its only cp311 wheel, 1.2.8, declares
# torch-geometric and its web stack for point-cloud transforms the suite never runs; install it without
# dependencies, with just the modules its package import loads (pinned: the range-coded bytes are gated)
if ! .venv/bin/python -c "import compressai" 2>/dev/null; then
    "${PIP[@]}" install --no-deps compressai==1.2.8 torch-geometric==2.8.1 einops==0.8.2 pytorch-msssim==1.0.0 \
        xxhash==4.1.0 psutil==7.2.2
fi
"${PIP[@]}" install -e .
echo "setup: $(.venv/bin/python -c 'import harness, torch, onnxruntime; print("harness", harness.__version__, "torch", torch.__version__, "onnxruntime", onnxruntime.__version__)')"
