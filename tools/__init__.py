"""Developer tools, kept out of the package: `checkbook` (every rendered page in headless
Chromium), `gpu_check` and `gpu_world` (measurements on a GPU). Run from the repository root,
e.g. `python -m tools.checkbook _build/html` (`make check-book`) or `bash scripts/gpu_check.sh`."""
