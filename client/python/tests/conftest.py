"""Fixtures: a real ``coordinated`` daemon, a TaskMaster, and worker processes.

Environment:

``COORDINATED_BIN``
    the daemon binary (default ``<repo>/build/release/src/daemon/coordinated``).
``COORDINATE_TEST_INSTALLED``
    a ``pip install --target`` directory holding the installed package and its ``bin/``
    scripts; without it the tests use ``src/`` and ``python -m``.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from typing import Any, Callable, Dict, Iterator, List, Optional

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
PKG_ROOT = os.path.dirname(HERE)
REPO_ROOT = os.path.dirname(os.path.dirname(PKG_ROOT))
INSTALLED = os.environ.get("COORDINATE_TEST_INSTALLED") or None
IMPORT_ROOT = INSTALLED or os.path.join(PKG_ROOT, "src")

if IMPORT_ROOT not in sys.path:
    sys.path.insert(0, IMPORT_ROOT)
if HERE not in sys.path:
    sys.path.insert(0, HERE)

from coordinate import TaskMaster  # noqa: E402

DEFAULT_BIN = os.path.join(REPO_ROOT, "build", "release", "src", "daemon", "coordinated")


def wait_for(cond: Callable[[], Any], timeout: float = 20.0, interval: float = 0.05, what: str = "") -> Any:
    """Poll ``cond`` until it returns something truthy; fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = cond()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what or cond}")
        time.sleep(interval)


class Daemon:
    def __init__(self, binary: str, workdir: str, port: int = 0) -> None:
        self.binary = binary
        self.port = port
        self.workdir = workdir
        self.data_dir = os.path.join(workdir, "data")
        self.ready_file = os.path.join(workdir, "ready")
        self.log_path = os.path.join(workdir, "daemon.log")
        self.proc: Optional[subprocess.Popen[bytes]] = None
        self.address = ""

    def start(self) -> None:
        if os.path.exists(self.ready_file):
            os.unlink(self.ready_file)
        log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(
            [
                self.binary, "--host", "127.0.0.1", "--port", str(self.port),
                "--data-dir", self.data_dir, "--ready-file", self.ready_file,
                "--enable-test-hooks",
            ],
            stdout=log, stderr=subprocess.STDOUT,
        )
        log.close()

        def ready() -> bool:
            assert self.proc is not None
            if self.proc.poll() is not None:
                raise AssertionError(f"coordinated exited with {self.proc.returncode}; see {self.log_path}")
            return os.path.exists(self.ready_file) and open(self.ready_file).read().strip() != ""

        wait_for(ready, timeout=30, what="coordinated ready file")
        self.address = open(self.ready_file).read().strip()

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None


def daemon_binary() -> str:
    binary = os.environ.get("COORDINATED_BIN") or DEFAULT_BIN
    if not os.access(binary, os.X_OK):
        pytest.fail(f"coordinated binary not found at {binary}; set COORDINATED_BIN")
    return binary


@pytest.fixture(scope="session")
def daemon() -> Iterator[Daemon]:
    binary = daemon_binary()
    workdir = tempfile.mkdtemp(prefix="coordinate-pytest-")
    d = Daemon(binary, workdir)
    d.start()
    try:
        yield d
    finally:
        d.stop()
        shutil.rmtree(workdir, ignore_errors=True)


@pytest.fixture
def config(daemon: Daemon) -> Dict[str, Any]:
    return {"address": daemon.address, "retries": 2, "base_retry_seconds": 0.05}


@pytest.fixture
def tm(config: Dict[str, Any]) -> Iterator[TaskMaster]:
    t = TaskMaster(config)
    t.clear()
    t.set_mode("RUN")
    try:
        yield t
    finally:
        try:
            t.set_mode("RUN")
        finally:
            t.close()


def advance_clock(tm: TaskMaster, seconds: float) -> float:
    """Move the daemon's clock forward (test hook)."""
    return tm._rpc("_test_advance_clock", (seconds,))


def subprocess_env() -> Dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([IMPORT_ROOT, HERE] + ([env["PYTHONPATH"]] if env.get("PYTHONPATH") else []))
    env.pop("COORDINATE_WORKER_CONFIG_JSON", None)
    env["PYTHONUNBUFFERED"] = "1"
    return env


def command(name: str) -> List[str]:
    """How to run ``coordinate-worker`` / ``coordinate``: the installed script or ``-m``."""
    if INSTALLED:
        script = os.path.join(INSTALLED, "bin", name)
        if os.path.exists(script):
            return [sys.executable, script]
    module = {"coordinate-worker": "coordinate.worker", "coordinate": "coordinate"}[name]
    return [sys.executable, "-m", module]


class Processes:
    """Worker processes started by a test; killed at the end if still running."""

    def __init__(self, address: str, workdir: str) -> None:
        self.address = address
        self.workdir = workdir
        self.procs: List[subprocess.Popen[bytes]] = []

    def start(self, name: str, *args: str) -> "subprocess.Popen[bytes]":
        log = open(os.path.join(self.workdir, f"{name}-{len(self.procs)}.log"), "wb")
        proc = subprocess.Popen(
            command(name) + ["--address", self.address] + list(args),
            env=subprocess_env(), cwd=self.workdir, stdout=log, stderr=subprocess.STDOUT,
        )
        log.close()
        self.procs.append(proc)
        return proc

    def run(self, name: str, *args: str, timeout: float = 60) -> "subprocess.CompletedProcess[str]":
        return subprocess.run(
            command(name) + ["--address", self.address] + list(args),
            env=subprocess_env(), cwd=self.workdir, capture_output=True, text=True, timeout=timeout,
        )

    def log(self, proc: "subprocess.Popen[bytes]") -> str:
        idx = self.procs.index(proc)
        for fn in os.listdir(self.workdir):
            if fn.endswith(f"-{idx}.log"):
                return open(os.path.join(self.workdir, fn), errors="replace").read()
        return ""

    def cleanup(self) -> None:
        # SIGTERM twice (a parent passes it on to its children), then SIGKILL.
        for _ in range(2):
            live = [p for p in self.procs if p.poll() is None]
            for p in live:
                p.send_signal(signal.SIGTERM)
            for p in live:
                try:
                    p.wait(timeout=5)
                except subprocess.TimeoutExpired:
                    pass
        for p in self.procs:
            if p.poll() is None:
                p.kill()
                p.wait()


@pytest.fixture
def procs(daemon: Daemon, tmp_path: Any) -> Iterator[Processes]:
    p = Processes(daemon.address, str(tmp_path))
    try:
        yield p
    finally:
        p.cleanup()
