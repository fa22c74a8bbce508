#!/usr/bin/env bash
# Fine-tuning tokens/s, peak memory and MFU on this machine's GPU, offline, in under 4 minutes
# on one H100; `--device cpu --tiny` is the CI smoke run of the same code. Every argument goes to
# `python -m tools.gpu_check` (see --help). PYTHON picks the interpreter (default python3, the
# one that holds torch on a GPU box).
exec bash "$(dirname "${BASH_SOURCE[0]}")/run_module.sh" tools.gpu_check "$@"
