"""`cltbook run | status | verify | collect | show | book`: the command line over `cltbook.sweep` and
`cltbook.report.book`."""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import traceback
from datetime import datetime, timezone
from pathlib import Path

from cltbook import __version__
from cltbook.config import ConfigError, dump_yaml, load_study, overrides_study
from cltbook.report.book import build
from cltbook.sweep.executors import RayExecutor
from cltbook.sweep.runner import NOTEBOOK, PARAMETERS
from cltbook.sweep.study import collect_study, run_statuses, run_study
from cltbook.sweep.verify import verify_study


def _cmd_run(args: argparse.Namespace, study=None) -> int:
    executor = None
    if args.executor == "ray":
        executor = RayExecutor(
            args.ray_address,
            threads=args.threads or 1,
            gpus=args.gpus_per_run,
            timeout=args.timeout,
            auth_mode=args.ray_auth_mode,
        )
    outcome = run_study(
        study if study is not None else args.study,
        runs_root=args.runs_dir,
        cache_dir=args.cache_dir,
        threads=args.threads,
        dry_run=args.dry_run,
        retry_failed=args.retry_failed,
        executor=executor,
        workers=args.workers,
        timeout=args.timeout,
    )
    if not args.dry_run:
        print(f"{len(outcome['ok'])} ran, {len(outcome['failed'])} failed, {len(outcome['skipped'])} skipped")
    return 1 if outcome["failed"] else 0


def _cmd_once(args: argparse.Namespace) -> int:
    """One run from key=value overrides of the defaults, validated as a study file is."""
    study, text = overrides_study(args.name, args.overrides)
    if args.dry_run:
        print(f"# the same run as a study file (cltbook run FILE):\n{text}")
    code = _cmd_run(args, study=study)
    if not args.dry_run:
        [config] = study.expand()
        print(f"run folder: {Path(args.runs_dir) / study.name / config.run_id}")
    return code


def _cmd_status(args: argparse.Namespace) -> int:
    study = load_study(args.study)
    statuses = run_statuses(study, Path(args.runs_dir))
    for status in statuses:
        reason = f"  ({status.reason})" if status.reason else ""
        print(f"{status.state:8} {status.config.run_id}  {status.config.label}{reason}")
        if status.state == "failed" and args.verbose and status.record:
            print(status.record.get("traceback", ""))
    counts = {state: sum(s.state == state for s in statuses) for state in ("done", "failed", "pending")}
    print(", ".join(f"{n} {state}" for state, n in counts.items()))
    return 0


def _cmd_collect(args: argparse.Namespace) -> int:
    out = collect_study(args.study, runs_root=args.runs_dir, out=args.out)
    print(f"wrote {out}")
    return 0


def _cmd_show(args: argparse.Namespace) -> int:
    study = load_study(args.study)
    matches = [c for c in study.expand() if c.run_id.startswith(args.run)]
    if len(matches) != 1:
        print(f"error: run {args.run!r} matches {len(matches)} runs of study {study.name}", file=sys.stderr)
        return 2
    config = matches[0]
    run_dir = Path(args.runs_dir) / study.name / config.run_id
    print(dump_yaml(config))
    # parameters.yaml (written by cltbook run) holds the notebook's parameters: the config, run_dir,
    # cache_dir and threads; -p overrides the last three.
    print(
        f"# re-run by hand:\npapermill {NOTEBOOK} {run_dir}/executed.ipynb -f {run_dir}/{PARAMETERS} "
        f"-p run_dir {run_dir} -p cache_dir {args.cache_dir}"
    )
    return 0


def _cmd_verify(args: argparse.Namespace) -> int:
    problems = verify_study(args.study, runs_root=args.runs_dir)
    for problem in problems:
        print(problem, file=sys.stderr)
    return 1 if problems else 0


def _cmd_book(args: argparse.Namespace) -> int:
    return build(study=args.study, strict=not args.no_strict)


def _number(kind: type, low: float, inclusive: bool = True):
    """An argparse type: ``kind`` at least (or above) ``low``, refused naming the value."""

    def parse(text: str):
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(
                f"expected {'an integer' if kind is int else 'a number'}, got {text!r}"
            ) from None
        if value < low or (value == low and not inclusive):
            raise argparse.ArgumentTypeError(f"must be {'>=' if inclusive else '>'} {low:g}, got {text}")
        return value

    return parse


def add_run_options(p: argparse.ArgumentParser) -> None:
    """The options of `cltbook run` and `cltbook once`: where runs execute and with what."""
    p.add_argument("--cache-dir", default=".cache", help="base models and other caches (default: .cache)")
    p.add_argument(
        "--threads",
        type=_number(int, 0),
        default=0,
        help="torch threads per run (0: the cores divided among the local workers)",
    )
    p.add_argument("--dry-run", action="store_true", help="list what would run or be skipped")
    p.add_argument("--retry-failed", action="store_true", help="also re-run runs recorded as failed")
    p.add_argument("--workers", type=_number(int, 1), default=1, help="local runs at a time (default 1)")
    p.add_argument(
        "--timeout",
        type=_number(float, 0, inclusive=False),
        default=None,
        help="stop a run after this many seconds (failed)",
    )
    p.add_argument("--executor", choices=("local", "ray"), default="local", help="where runs execute")
    p.add_argument("--ray-address", default="auto", help="Ray cluster address (executor ray)")
    p.add_argument(
        "--ray-auth-mode",
        choices=("token", "disabled"),
        default="token",
        help="RAY_AUTH_MODE for the driver; the cluster must use the same (default token)",
    )
    p.add_argument("--gpus-per-run", type=float, default=0, help="GPUs each Ray task asks for")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="cltbook", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    def study_command(name: str, help: str) -> argparse.ArgumentParser:
        p = sub.add_parser(name, help=help)
        p.add_argument("study", help="a study file, e.g. studies/default.yaml")
        p.add_argument("--runs-dir", default="runs", help="where run folders live (default: runs)")
        return p

    p = study_command("run", "execute every run of a study that has no record")
    add_run_options(p)
    p.set_defaults(func=_cmd_run)

    p = sub.add_parser("once", help="execute one run from key=value overrides, without a study file")
    p.add_argument(
        "overrides",
        nargs="*",
        metavar="KEY=VALUE",
        help="RunConfig fields as dotted paths, values in YAML: base_model.size=micro "
        "'seen_languages=[es, fr]' training.learning_rate=1e-4",
    )
    p.add_argument("--name", default="once", help="the study name its run folder goes under (default: once)")
    p.add_argument("--runs-dir", default="runs", help="where run folders live (default: runs)")
    add_run_options(p)
    p.set_defaults(func=_cmd_once)

    p = study_command("status", "list done / failed / pending runs")
    p.add_argument("-v", "--verbose", action="store_true", help="print tracebacks of failed runs")
    p.set_defaults(func=_cmd_status)

    p = study_command("verify", "re-score every saved prediction from its raw output and check the records")
    p.set_defaults(func=_cmd_verify)

    p = study_command("collect", "write the results tables of a study (metrics, predictions, runs, world card)")
    p.add_argument("--out", default=None, help="output folder (default: results/<study>/)")
    p.set_defaults(func=_cmd_collect)

    p = study_command("show", "print a run's resolved config and how to re-run it")
    p.add_argument("run", help="run id (or a unique prefix)")
    p.add_argument("--cache-dir", default=".cache")
    p.set_defaults(func=_cmd_show)

    p = sub.add_parser("book", help="render the book into _build/html")
    p.add_argument("--study", default=None, help="study whose results the chapters read (default: _config.yml)")
    p.add_argument("--no-strict", action="store_true", help="do not treat warnings as errors")
    p.set_defaults(func=_cmd_book)
    return parser


BUG_EXIT = 3  # an error in cltbook itself: the message says so and where the traceback is


def _bug_report(argv: list[str] | None, err: BaseException) -> Path:
    """Write the traceback of an unexpected error to a log file outside runs/ and results/."""
    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    path = Path(tempfile.gettempdir()) / f"cltbook-error-{stamp}-{os.getpid()}.log"
    command = " ".join(["cltbook", *(sys.argv[1:] if argv is None else argv)])
    text = "".join(traceback.format_exception(type(err), err, err.__traceback__))
    path.write_text(f"{command}\ncltbook {__version__}, Python {sys.version.split()[0]}\n\n{text}", encoding="utf-8")
    return path


def main(argv: list[str] | None = None) -> int:
    """Exit codes: 0 done; 1 a run failed, or the machine or its files refused (disk, permissions);
    2 bad input, named in one line before any work; 3 a bug in cltbook (traceback in a log file)."""
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except ConfigError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    except OSError as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    except Exception as err:
        log = _bug_report(argv, err)
        print(
            f"internal error: {type(err).__name__}: {err}. This is a bug in cltbook, not a problem with your "
            f"input; the traceback is in {log} (please include it when you report the bug)",
            file=sys.stderr,
        )
        return BUG_EXIT


if __name__ == "__main__":
    sys.exit(main())
