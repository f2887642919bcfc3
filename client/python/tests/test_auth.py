"""The ``auth_token`` option against a daemon started with ``--auth-token-file``."""

import os
import shutil
import signal
import subprocess
import tempfile

import pytest

from coordinate import ProgrammerError, RpcError, TaskMaster
from conftest import daemon_binary, wait_for


def spec(name):
    return {"name": name, "min_gb": 1, "module": "coordinate_test_jobs", "run_function": "record"}


class TokenDaemon:
    """A daemon on 127.0.0.1 that requires ``token``; its stderr goes to ``log_path``."""

    def __init__(self, workdir, token):
        self.workdir = workdir
        self.token = token
        self.token_file = os.path.join(workdir, "token")
        fd = os.open(self.token_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(token + "\n")
        self.ready_file = os.path.join(workdir, "ready")
        self.log_path = os.path.join(workdir, "daemon.log")
        with open(self.log_path, "ab") as log:
            self.proc = subprocess.Popen(
                [
                    daemon_binary(), "--host", "127.0.0.1", "--port", "0",
                    "--data-dir", os.path.join(workdir, "data"), "--ready-file", self.ready_file,
                    "--auth-token-file", self.token_file,
                ],
                stdout=log, stderr=subprocess.STDOUT,
            )

        def ready():
            if self.proc.poll() is not None:
                raise AssertionError(f"coordinated exited with {self.proc.returncode}: {self.log()}")
            return os.path.exists(self.ready_file) and open(self.ready_file).read().strip() != ""

        wait_for(ready, timeout=30, what="coordinated ready file")
        self.address = open(self.ready_file).read().strip()

    def log(self):
        with open(self.log_path, errors="replace") as f:
            return f.read()

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


@pytest.fixture(scope="module")
def token_daemon():
    workdir = tempfile.mkdtemp(prefix="coordinate-pytest-auth-")
    d = TokenDaemon(workdir, "tok-" + os.urandom(16).hex())
    try:
        yield d
    finally:
        d.stop()
        shutil.rmtree(workdir, ignore_errors=True)


def config(d, **extra):
    c = {"address": d.address, "retries": 2, "base_retry_seconds": 0.01}
    c.update(extra)
    return c


def test_token_in_config_authenticates_every_connection(token_daemon):
    tm = TaskMaster(config(token_daemon, auth_token=token_daemon.token))
    try:
        assert tm.set_work_spec(spec("auth-ws")) is True
        assert tm.get_work_spec("auth-ws")["name"] == "auth-ws"
        # A new connection (after close, as after a socket error) authenticates again.
        tm.close()
        assert tm.get_mode() == "RUN"
        assert tm.del_work_spec("auth-ws") is True
    finally:
        tm.close()


def test_token_as_keyword_argument_str_or_bytes(token_daemon):
    for token in (token_daemon.token, token_daemon.token.encode()):
        tm = TaskMaster(config(token_daemon, auth_token="wrong"), auth_token=token)
        try:
            assert tm.get_mode() == "RUN"
        finally:
            tm.close()


def test_without_token_every_call_is_refused(token_daemon):
    tm = TaskMaster(config(token_daemon))
    try:
        with pytest.raises(RpcError) as exc:
            tm.set_work_spec(spec("never"))
        assert exc.value.kind == "Unauthenticated"
        assert "call auth(token) first" in exc.value.message
        with pytest.raises(RpcError):
            tm._rpc("now")
    finally:
        tm.close()
    authed = TaskMaster(config(token_daemon, auth_token=token_daemon.token))
    try:
        assert authed.get_work_spec("never") is None
    finally:
        authed.close()


def test_wrong_token_raises_once_without_retrying(token_daemon):
    before = token_daemon.log().count("auth with a wrong token")
    tm = TaskMaster(config(token_daemon, auth_token="not-" + token_daemon.token, retries=3))
    try:
        with pytest.raises(RpcError) as exc:
            tm.get_mode()
        assert exc.value.kind == "Unauthenticated"
        assert exc.value.method == "auth"
    finally:
        tm.close()
    # One connection, one auth attempt: a refused token is not retried.
    assert token_daemon.log().count("auth with a wrong token") == before + 1
    assert token_daemon.token not in token_daemon.log()


def test_bad_token_type_is_a_programmer_error(token_daemon):
    with pytest.raises(ProgrammerError):
        TaskMaster(config(token_daemon), auth_token=12345)


def test_token_accepted_by_a_daemon_without_one(tm, daemon):
    # The session daemon has no token: auth succeeds for any token, so clients may always send it.
    with_token = TaskMaster({"address": daemon.address, "auth_token": "anything"})
    try:
        assert with_token.get_mode() == "RUN"
    finally:
        with_token.close()
