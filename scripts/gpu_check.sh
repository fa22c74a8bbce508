#!/usr/bin/env bash
# Fine-tuning tokens/s, peak memory and MFU on this machine's GPU, offline, in under 4 minutes
# on one H100; `--device cpu --tiny` is the CI smoke run of the same code. Every argument goes to
# `python -m cltbook.gpu_check` (see --help). PYTHON picks the interpreter (default python3, the
# one that holds torch on a GPU box).
set -euo pipefail
export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
# This checkout's cltbook, whether it is installed or not (an installed copy may be another one).
export PYTHONPATH="$root${PYTHONPATH:+:$PYTHONPATH}"
exec "${PYTHON:-python3}" -m cltbook.gpu_check "$@"
