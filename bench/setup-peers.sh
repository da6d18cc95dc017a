#!/usr/bin/env bash
# Creates the Python environment the peer engines run in (PyTorch, ONNX Runtime, OpenVINO): several GB.
# Usage: bench/setup-peers.sh [VENV_DIR]   (default: .venv-peers in the project root)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
venv=${1:-$root/.venv-peers}
if [ ! -x "$venv/bin/python" ]; then
  python3 -m venv "$venv"
fi
"$venv/bin/pip" install --quiet --upgrade pip
"$venv/bin/pip" install --quiet torch torchvision onnx onnxruntime openvino pillow onnxscript flask matplotlib
"$venv/bin/python" -c "import torch, onnxruntime, openvino; print('peers ready: torch', torch.__version__, 'ort', onnxruntime.__version__, 'openvino', openvino.__version__)"
