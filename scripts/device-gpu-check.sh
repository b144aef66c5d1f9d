#!/usr/bin/env bash
# The GPU panel on real hardware (issue 7), for a lent GPU machine (no Docker, no network):
# torch holds 20 GiB on GPU 0 while `vtui gpus --json` and nvidia-smi read the memory side
# by side; then the GPU screen is rendered, the NVML tests run, and the poll benchmark runs
# against real NVML. Everything it writes goes to $OUT (default /tmp/vtui-gpu-check).
# Needs the wheels vtui lacks there in .whl/ (see README: "Checking on a GPU machine").
set -uo pipefail
cd "$(dirname "$0")/.."
OUT=${OUT:-/tmp/vtui-gpu-check}
mkdir -p "$OUT"
if ls .whl/*.whl >/dev/null 2>&1; then
    python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade \
        --target /tmp/site .whl/*.whl || exit 1
    export PYTHONPATH=/tmp/site:$PWD
fi
export PYTHONUNBUFFERED=1
HOLD_GIB=${HOLD_GIB:-20}
rm -f /tmp/vtui-holding
python3 - "$HOLD_GIB" <<'PY' &
import pathlib, sys, time
import torch
block = torch.ones(int(sys.argv[1]) * 1024**3, dtype=torch.uint8, device="cuda:0")
torch.cuda.synchronize()
pathlib.Path("/tmp/vtui-holding").write_text(str(block.numel()))
time.sleep(900)
PY
holder=$!
for _ in $(seq 120); do [ -f /tmp/vtui-holding ] && break; sleep 0.5; done
echo "== torch holds ${HOLD_GIB} GiB on GPU 0 (pid $holder)"
{
    echo "# nvidia-smi before"
    nvidia-smi --query-gpu=index,name,memory.used,memory.total,memory.reserved --format=csv
    python3 -m vtui gpus --json >"$OUT/gpus.json"
    echo "# nvidia-smi after"
    nvidia-smi --query-gpu=index,name,memory.used,memory.total,memory.reserved --format=csv
    echo "# nvidia-smi compute apps"
    nvidia-smi --query-compute-apps=pid,process_name,used_memory --format=csv
} >"$OUT/nvidia-smi.csv" 2>&1
cat "$OUT/nvidia-smi.csv"
python3 - "$OUT/gpus.json" <<'PY'
import json, sys
gpus = json.load(open(sys.argv[1]))["gpus"]
for g in gpus:
    print(f"vtui gpus --json: GPU {g['index']} {g['name']}: used {g['memory_used_bytes'] // 2**20} MiB"
          f" of {g['memory_total_bytes'] // 2**20} MiB (reserved {g['memory_reserved_bytes'] // 2**20}"
          f" MiB), util {g['utilization_percent']} %, processes {[(p['pid'], p['name'], (p['memory_used_bytes'] or 0) // 2**20) for p in g['processes']]}")
PY
echo "== vtui gpus"
python3 -m vtui gpus
echo "== GPU screen, real hardware"
rm -rf /tmp/vtui-shots
python3 -m vtui --headless --screenshots /tmp/vtui-shots --size 120x40
cp /tmp/vtui-shots/gpu.svg "$OUT/gpu-real-hardware.svg"
echo "== NVML tests"
python3 -m pytest -q -p no:cacheprovider tests/test_gpu_nvml.py tests/test_gpu_backend.py 2>&1 | tail -5
echo "== bench: real NVML"
python3 -m bench.gpu_poll --real --seconds 10
echo "== bench: 8 simulated GPUs"
python3 -m bench.gpu_poll --seconds 10
kill "$holder" 2>/dev/null
wait 2>/dev/null
