"""The worker: ask ``coordinated`` for work units and run them.

``coordinate-worker`` (or ``python -m coordinate.worker``) runs a :class:`Worker` in one
process, or with ``--processes N`` a :class:`ParentWorker` that runs ``N`` worker child
processes registered as its children.

A worker

* registers, then heartbeats every ``heartbeat_interval`` seconds with its host name, pid,
  memory figures from ``/proc`` and the global mode it last saw;
* asks for work (``get_work`` with ``lease_time``), imports the work spec's ``module`` and
  calls ``run_function(work_unit)`` (with ``run_params`` as extra arguments);
* renews the lease (``update_work_unit`` with ``lease_time``) from a background thread every
  ``lease_time / 3`` seconds while the function runs;
* finishes the unit when the function returns, or fails it with the formatted traceback in
  ``data['traceback']`` when it raises;
* honours the global mode (:meth:`coordinate.TaskMaster.get_mode`): ``IDLE`` takes no new
  work, ``TERMINATE`` finishes the current unit and exits.

Signals: the first SIGTERM (or SIGINT) lets the running unit complete normally (finished or
failed, as its function decides) and then exits; nothing more is taken.  A second one
interrupts the run function and puts its unit back to AVAILABLE, never FAILED.  A
``ParentWorker`` passes SIGTERM on to its children and exits once they have.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Mapping
from typing import Any, Dict, List, Optional, Sequence

from . import __version__
from ._cli_common import add_connection_args, load_config, setup_logging
from .constants import AVAILABLE, IDLE, PENDING, RUN, TERMINATE
from .exceptions import ProtocolError
from .job_client import TaskMaster, WorkUnit
from .workunit_run import call_run_function

logger = logging.getLogger(__name__)

__all__ = [
    "Worker",
    "ParentWorker",
    "WorkerInterrupted",
    "nice_identifier",
    "environment",
    "memory_info",
    "main",
]

#: Environment variable a parent uses to hand its client configuration to its children.
CONFIG_ENV = "COORDINATE_WORKER_CONFIG_JSON"


class WorkerInterrupted(BaseException):
    """Raised inside a run function when the worker is told to stop at once."""


def nice_identifier() -> str:
    """A random worker id (32 hex digits)."""
    return os.urandom(16).hex()


def _read_kv_file(path: str) -> Dict[str, int]:
    out: Dict[str, int] = {}
    try:
        with open(path, "r", encoding="ascii", errors="replace") as f:
            for line in f:
                name, _, rest = line.partition(":")
                fields = rest.split()
                if fields and fields[0].isdigit():
                    value = int(fields[0])
                    if len(fields) > 1 and fields[1] == "kB":
                        value *= 1024
                    out[name.strip()] = value
    except OSError:
        pass
    return out


def memory_info() -> Dict[str, int]:
    """Memory figures in bytes from ``/proc/meminfo`` and ``/proc/self/status``."""
    meminfo = _read_kv_file("/proc/meminfo")
    status = _read_kv_file("/proc/self/status")
    out: Dict[str, int] = {}
    for key, name in (
        ("total", "MemTotal"),
        ("available", "MemAvailable"),
        ("free", "MemFree"),
        ("swap_total", "SwapTotal"),
        ("swap_free", "SwapFree"),
    ):
        if name in meminfo:
            out[key] = meminfo[name]
    for key, name in (("rss", "VmRSS"), ("peak_rss", "VmHWM"), ("vms", "VmSize")):
        if name in status:
            out[key] = status[name]
    return out


def available_gb() -> Optional[float]:
    """Available memory in GiB (``MemAvailable``), or ``None`` when unknown."""
    mem = memory_info()
    if "available" in mem:
        return mem["available"] / 2**30
    return None


def environment(worker_id: Any = None, parent: Any = None, **extra: Any) -> Dict[str, Any]:
    """The heartbeat data of this process: ``worker_id``, ``parent``, ``hostname``, ``pid``,
    ``version``, ``python``, ``argv``, ``memory`` (bytes) and ``loadavg``, plus ``extra``."""
    env: Dict[str, Any] = {
        "worker_id": worker_id,
        "parent": parent,
        "hostname": socket.gethostname(),
        "pid": os.getpid(),
        "version": __version__,
        "python": sys.version.split()[0],
        "argv": list(sys.argv),
        "memory": memory_info(),
    }
    try:
        env["loadavg"] = list(os.getloadavg())
    except OSError:
        pass
    env.update(extra)
    return env


class _Running:
    """A unit the worker holds, with the lock that orders renewals against completion."""

    def __init__(self, unit: WorkUnit) -> None:
        self.unit = unit
        self.lock = threading.Lock()
        self.done = False
        self.lost = False


class Worker:
    """A worker that runs units one at a time in this process.

    :param config: :class:`~coordinate.TaskMaster` configuration
    :param work_spec_names: only take work from these specs
    :param max_jobs: units per ``get_work`` (run one after another)
    :param lease_time: lease to ask for and renew (default ``config['default_lifetime']``,
      900 s)
    :param heartbeat_interval: seconds between heartbeats
    :param poll_interval: seconds to wait when there is no work, and between mode checks
    :param lifetime: how long the daemon considers the worker alive after a heartbeat
    :param exit_when_idle: return from :meth:`run` when ``get_work`` finds nothing
    :param limit_count: return after this many units
    :param limit_seconds: do not start a unit after this many seconds
    :param honour_mode: follow the global mode (``IDLE``, ``TERMINATE``)
    :param worker_id: the id to register (default: random)
    """

    def __init__(
        self,
        config: Mapping[str, Any],
        task_master: Optional[TaskMaster] = None,
        work_spec_names: Optional[Sequence[Any]] = None,
        max_jobs: int = 1,
        lease_time: Optional[float] = None,
        heartbeat_interval: float = 15.0,
        poll_interval: float = 1.0,
        lifetime: float = 6000,
        exit_when_idle: bool = False,
        limit_count: Optional[int] = None,
        limit_seconds: Optional[float] = None,
        honour_mode: bool = True,
        worker_id: Optional[Any] = None,
    ) -> None:
        self.config = dict(config)
        self.task_master = task_master if task_master is not None else TaskMaster(self.config)
        self.work_spec_names = list(work_spec_names) if work_spec_names else None
        self.max_jobs = max(1, int(max_jobs))
        self.lease_time = float(
            lease_time if lease_time is not None else self.task_master.default_lifetime
        )
        self.heartbeat_interval = float(heartbeat_interval)
        self.poll_interval = float(poll_interval)
        self.lifetime = lifetime
        self.exit_when_idle = exit_when_idle
        self.limit_count = limit_count
        self.limit_seconds = limit_seconds
        self.honour_mode = honour_mode
        #: Worker id (set by :meth:`register`).
        self.worker_id: Optional[Any] = None
        self._wanted_id = worker_id
        #: Parent worker id.
        self.parent: Optional[Any] = None
        #: Pid of the parent process to watch (a child of :class:`ParentWorker`).
        self.parent_pid: Optional[int] = None
        #: Units completed (finished or failed) by :meth:`run`.
        self.units_done = 0
        #: Whether the last ``get_work`` found nothing.
        self.last_was_idle = False
        self._mode = RUN
        self._next_mode_check = 0.0
        self._stopping = False
        self._abort = False
        self._interruptible = False
        self._running: List[_Running] = []
        self._running_lock = threading.Lock()
        self._next_renew = 0.0
        self._next_heartbeat = 0.0
        self._keeper: Optional[threading.Thread] = None
        self._keeper_stop = threading.Event()
        self._spec_cache: Dict[Any, Any] = {}

    # ---- registration ---------------------------------------------------------------------

    @property
    def renew_interval(self) -> float:
        """Seconds between lease renewals of a running unit."""
        return max(0.5, self.lease_time / 3.0)

    def environment(self) -> Dict[str, Any]:
        """Heartbeat data (see :func:`environment`)."""
        with self._running_lock:
            units = [[h.unit.work_spec_name, h.unit.key] for h in self._running if not h.done]
        return environment(self.worker_id, self.parent, mode=self._mode, running=units)

    def register(self, parent: Optional[Any] = None) -> Any:
        """Pick a worker id and send the first heartbeat."""
        self.parent = parent
        self.worker_id = self._wanted_id or nice_identifier()
        self.task_master.worker_id = self.worker_id
        if self.honour_mode:
            self._check_mode(force=True)
        self.heartbeat()
        return self.worker_id

    def unregister(self) -> None:
        """Leave the set of live workers."""
        if self.worker_id is not None:
            try:
                self.task_master.worker_unregister(self.worker_id)
            except Exception:  # noqa: BLE001 - best effort on the way out
                logger.warning("worker_unregister failed", exc_info=True)
        self.task_master.worker_id = None

    def heartbeat(self, task_master: Optional[TaskMaster] = None) -> str:
        """Send a heartbeat; returns the mode reported."""
        tm = task_master or self.task_master
        tm.worker_heartbeat(self.worker_id, self._mode, self.lifetime, self.environment(), self.parent)
        self._next_heartbeat = time.monotonic() + self.heartbeat_interval
        return self._mode

    # ---- stopping -------------------------------------------------------------------------

    def stop(self, immediately: bool = False) -> None:
        """Ask :meth:`run` to return after the current unit.

        With ``immediately``, units not yet started are released too; a run function that is
        already running is only interrupted by a second SIGTERM / SIGINT.
        """
        if immediately:
            self._abort = True
        self._stopping = True

    def _on_signal(self, signum: int, frame: Any) -> None:
        logger.info("worker %s got signal %d", self.worker_id, signum)
        if not self._stopping:
            self._stopping = True  # first signal: let the running unit complete
            return
        self._abort = True
        if self._interruptible:  # second signal: interrupt the run function
            self._interruptible = False
            raise WorkerInterrupted()

    def _install_signals(self) -> Dict[int, Any]:
        old: Dict[int, Any] = {}
        if threading.current_thread() is not threading.main_thread():
            return old
        for sig in (signal.SIGTERM, signal.SIGINT):
            old[sig] = signal.signal(sig, self._on_signal)
        return old

    def _sleep(self, seconds: float) -> None:
        deadline = time.monotonic() + seconds
        while not self._stopping:
            left = deadline - time.monotonic()
            if left <= 0:
                break
            time.sleep(min(0.05, left))

    def _check_mode(self, force: bool = False) -> str:
        now = time.monotonic()
        if force or now >= self._next_mode_check:
            try:
                self._mode = self.task_master.get_mode()
            except Exception:  # noqa: BLE001 - keep the last known mode
                logger.warning("get_mode failed", exc_info=True)
            self._next_mode_check = now + self.poll_interval
        return self._mode

    def _parent_gone(self) -> bool:
        return self.parent_pid is not None and os.getppid() != self.parent_pid

    # ---- the background thread: heartbeats and lease renewal ------------------------------

    def _start_keeper(self) -> None:
        self._keeper_stop.clear()
        self._keeper = threading.Thread(target=self._keeper_loop, name="coordinate-keeper", daemon=True)
        self._keeper.start()

    def _stop_keeper(self) -> None:
        self._keeper_stop.set()
        if self._keeper is not None:
            self._keeper.join(timeout=30)
            self._keeper = None

    def _keeper_loop(self) -> None:
        tm = TaskMaster(self.config)
        tick = max(0.05, min(1.0, self.heartbeat_interval / 4, self.renew_interval / 4))
        try:
            while not self._keeper_stop.wait(tick):
                now = time.monotonic()
                try:
                    if now >= self._next_heartbeat:
                        self.heartbeat(tm)
                    if now >= self._next_renew:
                        self._next_renew = now + self.renew_interval
                        self._renew_all(tm)
                except Exception:  # noqa: BLE001 - try again next tick
                    logger.warning("worker keeper thread error", exc_info=True)
        finally:
            tm.close()

    def _renew_all(self, tm: TaskMaster) -> None:
        with self._running_lock:
            handles = list(self._running)
        for h in handles:
            with h.lock:
                if h.done:
                    continue
                u = h.unit
                ok = tm.update_work_unit(u.work_spec_name, u.key, lease_time=self.lease_time)
                if ok:
                    u.expires = time.time() + self.lease_time
                elif not h.lost:
                    h.lost = True
                    logger.warning("lost lease on %r %r", u.work_spec_name, u.key)

    # ---- running work ---------------------------------------------------------------------

    def _spec_for(self, unit: WorkUnit) -> Any:
        now = time.monotonic()
        cached = self._spec_cache.get(unit.work_spec_name)
        if cached is not None and cached[1] > now:
            return cached[0]
        spec = self.task_master.get_work_spec(unit.work_spec_name)
        if spec is not None:
            self._spec_cache[unit.work_spec_name] = (spec, now + 5.0)
        return spec

    def run_one(self) -> bool:
        """Lease work and run it; ``False`` if there was none."""
        got = self.task_master.get_work(
            self.worker_id,
            available_gb=available_gb(),
            lease_time=self.lease_time,
            work_spec_names=self.work_spec_names,
            max_jobs=self.max_jobs,
        )
        if not got:
            self.last_was_idle = True
            return False
        self.last_was_idle = False
        units = got if isinstance(got, list) else [got]
        handles = [_Running(u) for u in units]
        with self._running_lock:
            self._running = handles
            self._next_renew = time.monotonic() + self.renew_interval
        try:
            for h in handles:
                if self._stopping or self._abort or self._parent_gone():
                    self._release(h)
                    continue
                self._run_unit(h)
        finally:
            for h in handles:
                if not h.done:
                    self._release(h)
            with self._running_lock:
                self._running = []
        return True

    def _run_unit(self, h: _Running) -> None:
        unit = h.unit
        failure: Optional[BaseException] = None
        try:
            spec = self._spec_for(unit)
            if spec is None:
                raise LookupError(f"work spec {unit.work_spec_name!r} no longer exists")
            unit.spec = spec
            self._interruptible = True
            if self._abort:
                raise WorkerInterrupted()
            try:
                call_run_function(unit, spec)
            finally:
                self._interruptible = False
        except (WorkerInterrupted, KeyboardInterrupt):
            self._interruptible = False
            logger.info("interrupted %r %r; releasing it", unit.work_spec_name, unit.key)
            self._release(h)
            self._abort = True
            self._stopping = True
            return
        except Exception as exc:  # noqa: BLE001 - the unit's failure
            logger.info("unit %r %r failed", unit.work_spec_name, unit.key, exc_info=True)
            self._complete(h, exc)
            return
        except BaseException as exc:  # SystemExit from a run function: record, then go
            self._complete(h, exc)
            raise
        self._complete(h, failure)

    def _complete(self, h: _Running, failure: Optional[BaseException]) -> None:
        with h.lock:
            h.done = True
            unit = h.unit
            if failure is None:
                ok = unit.finish()
            else:
                ok = unit.fail(failure)
        self.units_done += 1
        if not ok:
            logger.warning("could not record the end of %r %r", unit.work_spec_name, unit.key)

    def _release(self, h: _Running) -> None:
        """Give a unit this worker holds but will not run back to the queue."""
        with h.lock:
            if h.done:
                return
            h.done = True
            u = h.unit
            try:
                st = self.task_master.get_work_unit_status(u.work_spec_name, u.key)
                if (
                    isinstance(st, dict)
                    and st.get("status") == PENDING
                    and st.get("worker_id") == self.worker_id
                ):
                    self.task_master.update_work_unit(
                        u.work_spec_name, u.key, lease_time=0, status=AVAILABLE
                    )
            except Exception:  # noqa: BLE001 - the lease will expire anyway
                logger.warning("could not release %r %r", u.work_spec_name, u.key, exc_info=True)

    def run(self) -> bool:
        """Run units until told to stop (mode ``TERMINATE``, a signal, a limit, or no work
        with ``exit_when_idle``).  Returns ``True`` if the last ``get_work`` found work."""
        old_handlers = self._install_signals()
        self._start_keeper()
        deadline = None if self.limit_seconds is None else time.monotonic() + self.limit_seconds
        backoff = max(self.poll_interval, 0.5)
        try:
            while not self._stopping:
                if self._parent_gone():
                    logger.info("parent process gone; stopping")
                    break
                if self.honour_mode:
                    mode = self._check_mode()
                    if mode == TERMINATE:
                        logger.info("mode TERMINATE; stopping")
                        break
                    if mode == IDLE:
                        self._sleep(self.poll_interval)
                        continue
                if self.limit_count is not None and self.units_done >= self.limit_count:
                    break
                if deadline is not None and time.monotonic() >= deadline:
                    break
                try:
                    did_work = self.run_one()
                except (OSError, EOFError, ProtocolError) as exc:
                    # The daemon is unreachable even after the client's retries: keep
                    # trying (a held unit's lease runs out and it is done again).
                    logger.error("lost the daemon (%s); retrying in %.1fs", exc, backoff)
                    self._sleep(backoff)
                    backoff = min(backoff * 2, 30.0)
                    continue
                backoff = max(self.poll_interval, 0.5)
                if not did_work:
                    if self.exit_when_idle:
                        break
                    self._sleep(self.poll_interval)
        finally:
            self._stop_keeper()
            for sig, handler in old_handlers.items():
                signal.signal(sig, handler)
        return not self.last_was_idle


class ParentWorker:
    """Runs ``processes`` worker child processes, registered as its children.

    The parent heartbeats for itself, restarts a child that dies abnormally, stops when the
    mode becomes ``TERMINATE`` (the children stop themselves) or on SIGTERM (passed on to the
    children), and leaves when all children have exited.

    :param child_args: ``coordinate-worker`` options for the children
    """

    def __init__(
        self,
        config: Mapping[str, Any],
        processes: int,
        child_args: Sequence[str] = (),
        heartbeat_interval: float = 15.0,
        poll_interval: float = 1.0,
        lifetime: float = 6000,
        honour_mode: bool = True,
        worker_id: Optional[Any] = None,
        extra_paths: Sequence[str] = (),
    ) -> None:
        self.config = dict(config)
        self.task_master = TaskMaster(self.config)
        self.processes = int(processes)
        self.child_args = list(child_args)
        self.heartbeat_interval = float(heartbeat_interval)
        self.poll_interval = float(poll_interval)
        self.lifetime = lifetime
        self.honour_mode = honour_mode
        self.worker_id: Any = worker_id or nice_identifier()
        self.extra_paths = [os.path.abspath(p) for p in extra_paths]
        self.children: List[Optional[subprocess.Popen[bytes]]] = [None] * self.processes
        self._done = [False] * self.processes
        self._restart_at = [0.0] * self.processes
        self._started_at = [0.0] * self.processes
        self._restart_delay = [0.0] * self.processes
        self._stopping = False
        self._signals = 0
        self._mode = RUN

    def _child_env(self) -> Dict[str, str]:
        env = dict(os.environ)
        pkg_root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
        paths = [pkg_root] + self.extra_paths + [os.getcwd()]
        if env.get("PYTHONPATH"):
            paths.append(env["PYTHONPATH"])
        env["PYTHONPATH"] = os.pathsep.join(paths)
        env[CONFIG_ENV] = json.dumps(self.config)
        return env

    def _spawn(self, slot: int) -> None:
        cmd = [sys.executable, "-m", "coordinate.worker"] + self.child_args + [
            "--parent", str(self.worker_id), "--parent-pid", str(os.getpid()),
        ]
        proc = subprocess.Popen(cmd, env=self._child_env())
        logger.info("started child %d pid %d", slot, proc.pid)
        self.children[slot] = proc
        self._started_at[slot] = time.monotonic()

    def _signal_children(self, sig: int) -> None:
        for proc in self.children:
            if proc is not None and proc.poll() is None:
                try:
                    proc.send_signal(sig)
                except OSError:
                    pass

    def _on_signal(self, signum: int, frame: Any) -> None:
        self._signals += 1
        self._stopping = True
        self._signal_children(signal.SIGTERM)

    def heartbeat(self) -> None:
        self.task_master.worker_heartbeat(
            self.worker_id, self._mode, self.lifetime,
            environment(self.worker_id, None, mode=self._mode, processes=self.processes,
                        children=[p.pid for p in self.children if p is not None and p.poll() is None]),
            None,
        )

    def run(self) -> int:
        """Run until every child has exited; returns the exit status (0)."""
        old = {}
        if threading.current_thread() is threading.main_thread():
            for sig in (signal.SIGTERM, signal.SIGINT):
                old[sig] = signal.signal(sig, self._on_signal)
        if self.honour_mode:
            try:
                self._mode = self.task_master.get_mode()
            except Exception:  # noqa: BLE001
                logger.warning("get_mode failed", exc_info=True)
        self.heartbeat()
        next_heartbeat = time.monotonic() + self.heartbeat_interval
        next_mode = time.monotonic() + self.poll_interval
        tick = max(0.05, min(0.5, self.poll_interval))
        try:
            while True:
                now = time.monotonic()
                if self.honour_mode and now >= next_mode:
                    next_mode = now + self.poll_interval
                    try:
                        self._mode = self.task_master.get_mode()
                    except Exception:  # noqa: BLE001
                        logger.warning("get_mode failed", exc_info=True)
                    if self._mode == TERMINATE:
                        self._stopping = True  # the children see it and exit
                for slot, proc in enumerate(self.children):
                    if proc is None:
                        continue
                    rc = proc.poll()
                    if rc is None:
                        continue
                    self.children[slot] = None
                    if rc == 0 or self._stopping:
                        self._done[slot] = True
                    else:
                        # Back off when children keep dying young (daemon down, bad setup).
                        if now - self._started_at[slot] < 10.0:
                            delay = min(60.0, max(self.poll_interval, 2 * self._restart_delay[slot]))
                        else:
                            delay = self.poll_interval
                        self._restart_delay[slot] = delay
                        logger.warning("child pid %d exited with %d; restarting in %.1fs",
                                       proc.pid, rc, delay)
                        self._restart_at[slot] = now + delay
                if not self._stopping:
                    for slot in range(self.processes):
                        if self.children[slot] is None and not self._done[slot] and now >= self._restart_at[slot]:
                            self._spawn(slot)
                alive = [p for p in self.children if p is not None]
                if not alive and (self._stopping or all(self._done)):
                    break
                if now >= next_heartbeat:
                    next_heartbeat = now + self.heartbeat_interval
                    try:
                        self.heartbeat()
                    except Exception:  # noqa: BLE001
                        logger.warning("heartbeat failed", exc_info=True)
                time.sleep(tick)
        finally:
            if any(p is not None and p.poll() is None for p in self.children):
                self._signal_children(signal.SIGTERM)
                for p in self.children:
                    if p is not None:
                        try:
                            p.wait(timeout=60)
                        except subprocess.TimeoutExpired:
                            p.kill()
            try:
                self.task_master.worker_unregister(self.worker_id)
            except Exception:  # noqa: BLE001
                logger.warning("worker_unregister failed", exc_info=True)
            self.task_master.close()
            for sig, handler in old.items():
                signal.signal(sig, handler)
        return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="coordinate-worker",
        description="Run work units from a coordinated daemon.",
    )
    add_connection_args(parser)
    parser.add_argument("-n", "--processes", type=int, default=1,
                        help="worker child processes under one parent (default 1: no parent)")
    parser.add_argument("-w", "--work-spec", "--from-work-spec", dest="work_specs",
                        action="append", metavar="NAME", help="only run this work spec (repeatable)")
    parser.add_argument("--max-jobs", type=int, default=1, help="units per get_work (default 1)")
    parser.add_argument("--lease-time", type=float, default=None,
                        help="lease seconds to ask for and renew (default: config "
                        "default_lifetime, 900)")
    parser.add_argument("--heartbeat-interval", type=float, default=15.0,
                        help="seconds between heartbeats (default 15)")
    parser.add_argument("--poll-interval", type=float, default=1.0,
                        help="seconds to wait when idle / between mode checks (default 1)")
    parser.add_argument("--lifetime", type=float, default=6000,
                        help="seconds the daemon keeps the worker alive after a heartbeat")
    parser.add_argument("--exit-when-idle", action="store_true",
                        help="exit when there is no work")
    parser.add_argument("--limit-count", type=int, default=None,
                        help="exit after this many units (per process)")
    parser.add_argument("--limit-seconds", type=float, default=None,
                        help="start no unit after this many seconds")
    parser.add_argument("--ignore-mode", action="store_true",
                        help="do not follow the global IDLE / TERMINATE mode")
    parser.add_argument("--path", action="append", default=[], metavar="DIR",
                        help="add DIR to sys.path for importing work modules (repeatable; "
                        "the current directory is always added)")
    parser.add_argument("--worker-id", default=None, help=argparse.SUPPRESS)
    parser.add_argument("--parent", default=None, help=argparse.SUPPRESS)
    parser.add_argument("--parent-pid", type=int, default=None, help=argparse.SUPPRESS)
    return parser


def _child_args(args: argparse.Namespace) -> List[str]:
    out: List[str] = []
    for name in args.work_specs or []:
        out += ["--work-spec", name]
    out += ["--max-jobs", str(args.max_jobs)]
    if args.lease_time is not None:
        out += ["--lease-time", repr(args.lease_time)]
    out += ["--heartbeat-interval", repr(args.heartbeat_interval)]
    out += ["--poll-interval", repr(args.poll_interval)]
    out += ["--lifetime", repr(args.lifetime)]
    if args.exit_when_idle:
        out.append("--exit-when-idle")
    if args.limit_count is not None:
        out += ["--limit-count", str(args.limit_count)]
    if args.limit_seconds is not None:
        out += ["--limit-seconds", repr(args.limit_seconds)]
    if args.ignore_mode:
        out.append("--ignore-mode")
    for p in args.path:
        out += ["--path", os.path.abspath(p)]
    if args.verbose:
        out.append("-" + "v" * args.verbose)
    if args.quiet:
        out.append("-q")
    return out


def add_import_paths(paths: Sequence[str]) -> None:
    """Make work modules importable: the current directory and ``paths``."""
    for p in [os.getcwd()] + [os.path.abspath(x) for x in paths]:
        if p not in sys.path:
            sys.path.insert(1, p)


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Entry point of ``coordinate-worker``."""
    args = build_parser().parse_args(argv)
    setup_logging(args)
    if os.environ.get(CONFIG_ENV) and not args.config and not args.address:
        config: Dict[str, Any] = json.loads(os.environ[CONFIG_ENV])
    else:
        config = load_config(args)
    add_import_paths(args.path)
    if args.processes > 1:
        parent = ParentWorker(
            config,
            args.processes,
            _child_args(args),
            heartbeat_interval=args.heartbeat_interval,
            poll_interval=args.poll_interval,
            lifetime=args.lifetime,
            honour_mode=not args.ignore_mode,
            worker_id=args.worker_id,
            extra_paths=args.path,
        )
        return parent.run()
    worker = Worker(
        config,
        work_spec_names=args.work_specs,
        max_jobs=args.max_jobs,
        lease_time=args.lease_time,
        heartbeat_interval=args.heartbeat_interval,
        poll_interval=args.poll_interval,
        lifetime=args.lifetime,
        exit_when_idle=args.exit_when_idle,
        limit_count=args.limit_count,
        limit_seconds=args.limit_seconds,
        honour_mode=not args.ignore_mode,
        worker_id=args.worker_id,
    )
    worker.parent_pid = args.parent_pid
    worker.register(parent=args.parent)
    try:
        worker.run()
    finally:
        worker.unregister()
        worker.task_master.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
