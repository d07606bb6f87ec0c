#!/usr/bin/env bash
# The GPU checks of issue 19, prepared to run once on a machine with an NVIDIA GPU, CuPy and PyTorch CUDA
# (nothing is installed: nablab runs from src/; carry a tomli_w wheel if that machine lacks it):
#   1. the strict-device tests on the real GPU (NABLAB_TEST_GPU=cupy: ops and gradients of every
#      gradient-check case, the models' training steps, the trainer, checkpoints, interop), against
#      the CPU reference to float rounding;
#   2. the benchmark suite's GPU form (benchmarks/bench_gpu.py): W2 at batch 1024 and the VGGNet at
#      batch 256 against PyTorch CUDA eager, targets 0.7x and 0.5x.
# Results go to $OUT (default gpu-results/): tests.log, bench.log and the BENCHMARKS.md section.
#   bash benchmarks/gpu_check.sh
set -uo pipefail
cd "$(dirname "$0")/.."
export PYTHONPATH="$PWD/src${PYTHONPATH:+:$PYTHONPATH}" PYTHONUNBUFFERED=1
OUT="${OUT:-gpu-results}"
mkdir -p "$OUT"
python3 - <<'PY' 2>&1 | tee "$OUT/device.txt"
import cupy, torch, nablab
print("cupy", cupy.__version__, "torch", torch.__version__, "nablab.cuda", nablab.cuda.is_available(),
      "torch.cuda", torch.cuda.is_available(), torch.cuda.get_device_name(0) if torch.cuda.is_available() else "")
PY
status=0
NABLAB_TEST_GPU=cupy timeout 300 python3 -m pytest -q -p no:cacheprovider tests/strict_device 2>&1 \
  | tee "$OUT/tests.log" || status=1
timeout 240 python3 benchmarks/bench_gpu.py --output "$OUT/BENCHMARKS-gpu.md" 2>&1 | tee "$OUT/bench.log" || status=1
exit $status
