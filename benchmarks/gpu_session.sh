#!/bin/bash
# One call on a lent GPU machine (the device tool): the CUDA tests, the engine against the authors'
# formulation on the GPU, and paper-edition groups trained there until a deadline. Everything it
# reports is written under $OUT. Usage (from the repository root): bash benchmarks/gpu_session.sh GROUPS.pkl SECONDS
GROUPS_PKL=${1:?pickled groups}; BUDGET=${2:-480}
export PYTHONPATH=$PWD PYTHONUNBUFFERED=1 MPLBACKEND=Agg ICL_CACHE_DIR=/tmp/icl-cache
START=$(date +%s)
{ nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv; nproc
  python3 -c "import sys, torch; print(sys.version.split()[0], torch.__version__, torch.cuda.get_device_name())"; } > $OUT/env.txt 2>&1
# 1. speed on the GPU, alone on it: the authors' formulation against the engine (fresh process each)
timeout 90 python3 benchmarks/gpu_bench.py > $OUT/bench_gpu.txt 2>&1
# 2. the paper edition's groups, in worker processes, until the deadline
LEFT=$(( BUDGET - ($(date +%s) - START) ))
python3 benchmarks/gpu_train.py "$GROUPS_PKL" --workers ${WORKERS:-5} --deadline-s $LEFT --publish-dir /tmp/pub \
  --cache-dir /tmp/icl-cache > $OUT/train.log 2>&1 &
TRAIN=$!
# 3. the CUDA tests beside it
[ "${TESTS:-1}" = 0 ] || timeout 300 python3 -m pytest -q -p no:cacheprovider tests/core/test_cuda.py > $OUT/cuda_tests.txt 2>&1
wait $TRAIN
nvidia-smi --query-gpu=utilization.gpu,memory.used --format=csv >> $OUT/env.txt 2>&1
tar -C /tmp/pub -cf $OUT/gpu_models.tar . 2>> $OUT/env.txt
echo "session took $(( $(date +%s) - START )) s" >> $OUT/env.txt
