#!/usr/bin/env bash
# The miniature world at larger model sizes and token budgets (does transfer grow with scale?),
# offline, in under 8 minutes on one H100; `--device cpu --tiny` is the CI smoke run of the same
# code. Every argument goes to `python -m cltbook.gpu_world` (see --help); results go to
# bench/gpu_world.json (--tiny: .cache/gpu_world_tiny.json, never committed) unless --json says
# otherwise. PYTHON picks the interpreter (default python3, the one that holds torch on a GPU box).
set -euo pipefail
export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
# This checkout's cltbook, whether it is installed or not (an installed copy may be another one).
export PYTHONPATH="$root${PYTHONPATH:+:$PYTHONPATH}"
exec "${PYTHON:-python3}" -m cltbook.gpu_world "$@"
