#!/usr/bin/env bash
# `python -m MODULE ARGS...` from the repository root, offline, with this checkout's cltbook first
# on the path whether it is installed or not (an installed copy may be another one). PYTHON picks
# the interpreter (default python3, the one that holds torch on a GPU box).
set -euo pipefail
export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
export PYTHONPATH="$root${PYTHONPATH:+:$PYTHONPATH}"
exec "${PYTHON:-python3}" -m "$@"
