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
"${PIP[@]}" install -e .
echo "setup: $(.venv/bin/python -c 'import harness, torch, onnxruntime; print("harness", harness.__version__, "torch", torch.__version__, "onnxruntime", onnxruntime.__version__)')"
