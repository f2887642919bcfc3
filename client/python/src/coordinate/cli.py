"""The ``coordinate`` command: run one unit, and a few inspection commands.

Subcommands:

``run_one``
    run work in this process (one unit unless ``--limit-count`` / ``--limit-seconds`` is
    given); exit status 2 when the last attempt found no work.  Ignores the global mode, as
    the original did.
``rpc METHOD [PARAM ...]``
    call any method; each parameter is JSON (or a bare string); prints the result.
``status -W SPEC``
    the ``num_*`` counts of one work spec, as JSON.
``summary``
    a table of unit counts per work spec.
``work_specs``
    the work spec names.
``mode [RUN|IDLE|TERMINATE]``
    print or set the global mode.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any, List, Optional, Sequence

from ._cli_common import add_connection_args, load_config, setup_logging
from .base_client import text
from .constants import MODES
from .exceptions import CoordinateError
from .job_client import TaskMaster
from .worker import Worker, add_import_paths

__all__ = ["main"]


def _jsonable(value: Any) -> Any:
    if isinstance(value, bytes):
        return value.decode("utf-8", "backslashreplace")
    if isinstance(value, dict):
        return {str(_jsonable(k)): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    return str(value)


def _param(s: str) -> Any:
    try:
        return json.loads(s)
    except ValueError:
        return s


def cmd_run_one(tm: TaskMaster, config: dict, args: argparse.Namespace) -> int:
    add_import_paths(args.path)
    limited = args.limit_count is not None or args.limit_seconds is not None
    worker = Worker(
        config,
        task_master=tm,
        work_spec_names=args.from_work_spec,
        max_jobs=args.max_jobs,
        lease_time=args.lease_time,
        exit_when_idle=True,
        limit_count=args.limit_count if limited else 1,
        limit_seconds=args.limit_seconds,
        honour_mode=False,
        poll_interval=0.1,
    )
    worker.register()
    try:
        worker.run()
    finally:
        worker.unregister()
    return 2 if worker.last_was_idle else 0


def cmd_rpc(tm: TaskMaster, config: dict, args: argparse.Namespace) -> int:
    result = tm._rpc(args.method, [_param(p) for p in args.params])
    print(repr(result))
    return 0


def cmd_status(tm: TaskMaster, config: dict, args: argparse.Namespace) -> int:
    print(json.dumps(tm.status(args.work_spec_name), sort_keys=True))
    return 0


def cmd_work_specs(tm: TaskMaster, config: dict, args: argparse.Namespace) -> int:
    for spec in tm.iter_work_specs():
        name = spec.get("name", spec.get(b"name"))
        print(text(name) if isinstance(name, bytes) else name)
    return 0


def cmd_summary(tm: TaskMaster, config: dict, args: argparse.Namespace) -> int:
    rows: List[List[Any]] = []
    for spec in tm.iter_work_specs():
        name = spec.get("name", spec.get(b"name"))
        st = tm.status(name)
        rows.append([text(name), st["num_available"], st["num_pending"], st["num_blocked"],
                     st["num_failed"], st["num_finished"], st["num_tasks"]])
    if args.json:
        print(json.dumps([dict(zip(["work_spec", "available", "pending", "blocked", "failed",
                                    "finished", "total"], r)) for r in rows]))
        return 0
    header = ["Work spec", "Avail", "Pending", "Blocked", "Failed", "Finished", "Total"]
    widths = [max(len(str(r[i])) for r in rows + [header]) for i in range(len(header))]
    for r in [header] + rows:
        print("  ".join(str(v).ljust(widths[i]) if i == 0 else str(v).rjust(widths[i])
                        for i, v in enumerate(r)))
    return 0


def cmd_mode(tm: TaskMaster, config: dict, args: argparse.Namespace) -> int:
    if args.mode:
        tm.set_mode(args.mode)
    print(tm.get_mode())
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="coordinate", description="coordinated client tool")
    add_connection_args(parser)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True

    p = sub.add_parser("run_one", help="run one work unit (or a few) in this process")
    p.add_argument("--from-work-spec", action="append", metavar="NAME",
                   help="only take work from this spec (repeatable)")
    p.add_argument("--limit-seconds", type=float, default=None,
                   help="keep running units for this long")
    p.add_argument("--limit-count", type=int, default=None, help="run at most this many units")
    p.add_argument("--max-jobs", type=int, default=1, help="units per get_work")
    p.add_argument("--lease-time", type=float, default=None, help="lease seconds")
    p.add_argument("--path", action="append", default=[], metavar="DIR",
                   help="add DIR to sys.path for work modules")
    p.set_defaults(func=cmd_run_one)

    p = sub.add_parser("rpc", help="call a method; params are JSON")
    p.add_argument("method")
    p.add_argument("params", nargs="*")
    p.set_defaults(func=cmd_rpc)

    p = sub.add_parser("status", help="unit counts of one work spec, as JSON")
    p.add_argument("-W", "--work-spec-name", required=True)
    p.set_defaults(func=cmd_status)

    p = sub.add_parser("summary", help="unit counts of every work spec")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_summary)

    p = sub.add_parser("work_specs", help="list work spec names")
    p.set_defaults(func=cmd_work_specs)

    p = sub.add_parser("mode", help="print, or set, the global mode")
    p.add_argument("mode", nargs="?", choices=MODES)
    p.set_defaults(func=cmd_mode)
    return parser


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Entry point of ``coordinate``."""
    args = build_parser().parse_args(argv)
    setup_logging(args)
    config = load_config(args)
    tm = TaskMaster(config)
    try:
        return int(args.func(tm, config, args))
    except CoordinateError as exc:
        print(f"coordinate: {exc}", file=sys.stderr)
        return 1
    finally:
        tm.close()


if __name__ == "__main__":
    sys.exit(main())
