"""Many runs: a study expanded into runs, checked before work, executed, verified.

`preflight` checks every input a study will read; `runner` executes one run's notebook through
papermill and builds base models; `executors` schedule runs locally or on a Ray cluster;
`study` is the driver `cltbook run` calls; `verify` re-scores a finished run; `badinput` is the
catalogue of refused inputs. Imports the layers below (`pipeline` and under).
"""
