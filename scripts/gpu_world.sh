#!/usr/bin/env bash
# The miniature world at larger model sizes and token budgets (does transfer grow with scale?),
# offline, in under 8 minutes on one H100; `--device cpu --tiny` is the CI smoke run of the same
# code. Every argument goes to `python -m tools.gpu_world` (see --help); results go to
# bench/gpu_world.json (--tiny: .cache/gpu_world_tiny.json, never committed) unless --json says
# otherwise.
exec bash "$(dirname "${BASH_SOURCE[0]}")/run_module.sh" tools.gpu_world "$@"
