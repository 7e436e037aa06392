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
# A fresh environment takes about 7 GB (torch's CUDA build and its NVIDIA libraries are 5.5 GB of it); pip would
# run out part-way and leave a broken .venv, so say so before starting
require_free_gib() {
    local need_gib="$1" free_kib
    free_kib="$(df -Pk .venv | awk 'NR == 2 {print $4}')"
    if [ "$free_kib" -lt $((need_gib * 1024 * 1024)) ]; then
        echo "setup: $((free_kib / 1024 / 1024)) GiB free under $(pwd)/.venv, the environment needs about ${need_gib} GiB:" \
            "free disk space there (old clones, caches) and run scripts/setup.sh again" >&2
        exit 1
    fi
}
if ! .venv/bin/python -c "import torch, torchvision, torchaudio" 2>/dev/null; then
    require_free_gib 8
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
