"""Run functions used by the worker tests (imported by worker processes)."""

import os
import time


def record(work_unit):
    """Succeed, noting who ran the unit."""
    work_unit.data["worker_id"] = work_unit.worker_id
    work_unit.data["pid"] = os.getpid()
    work_unit.data["ppid"] = os.getppid()


def boom(work_unit):
    """Always fail."""
    raise ValueError("boom on %s" % (work_unit.key,))


def gated(work_unit):
    """Touch data['started'], then wait (up to 60 s) for the file data['gate']."""
    with open(work_unit.data["started"], "a") as f:
        f.write("%d\n" % os.getpid())
    deadline = time.time() + 60
    while not os.path.exists(work_unit.data["gate"]):
        if time.time() > deadline:
            raise RuntimeError("gate never opened")
        time.sleep(0.02)
    work_unit.data["worker_id"] = work_unit.worker_id
    work_unit.data["pid"] = os.getpid()


def slow(work_unit):
    """Sleep data['seconds']."""
    time.sleep(work_unit.data["seconds"])
    work_unit.data["slept"] = True


def with_params(work_unit, *args, **kwargs):
    """Store the run_params the worker passed."""
    work_unit.data["args"] = list(args)
    work_unit.data["kwargs"] = kwargs
