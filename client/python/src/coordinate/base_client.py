"""The CBOR-RPC connection underneath :class:`coordinate.TaskMaster`.

.. autoclass:: CborRpcClient
"""

from __future__ import annotations

import logging
import os
import random
import socket
import threading
import time
from collections.abc import Mapping, Sequence
from typing import IO, Any, Optional, Tuple

import cbor2

from . import wire
from .constants import DEFAULT_PORT
from .exceptions import ProgrammerError, ProtocolError, RpcError

logger = logging.getLogger(__name__)

__all__ = ["CborRpcClient", "parse_address", "text"]


def text(value: Any) -> Any:
    """Decode a byte string the daemon produced (a message, a mode) to ``str``.

    Anything that is not ``bytes`` is returned unchanged; bytes that are not UTF-8 are
    decoded with replacement characters.
    """
    if isinstance(value, (bytes, bytearray)):
        return bytes(value).decode("utf-8", "replace")
    return value


def parse_address(addr: Any) -> Tuple[str, int]:
    """Turn ``"host:port"``, ``"host"``, ``(host, port)`` or ``[host, port]`` into a tuple."""
    if isinstance(addr, bytes):
        addr = addr.decode("utf-8")
    if isinstance(addr, str):
        if addr.startswith("[") and "]" in addr:  # [v6]:port
            host, _, rest = addr[1:].partition("]")
            port = int(rest[1:]) if rest.startswith(":") else DEFAULT_PORT
            return host, port
        if addr.count(":") == 1:
            host, port_s = addr.rsplit(":", 1)
            return host, int(port_s)
        return addr, DEFAULT_PORT
    if isinstance(addr, Sequence) and len(addr) == 2:
        return str(text(addr[0])), int(addr[1])
    raise ProgrammerError(f"address must be 'host:port' or (host, port), got {addr!r}")


class CborRpcClient:
    """One lazily-opened TCP connection to a ``coordinated`` daemon.

    Configuration keys (a mapping; a global config with a ``coordinate`` block works too):

    ``address``
        ``"host:port"`` (or a ``(host, port)`` pair).
    ``addresses``
        a list of addresses; one is picked at random when ``address`` is absent.
    ``retries``
        how many times a call is re-sent after a socket error (default 5).
    ``base_retry_seconds``
        the first back-off delay, doubled after each retry (default 0.5).
    ``socket_timeout``
        seconds to wait for a connection or a reply before treating it as a socket error
        (default 60; ``None`` waits forever).
    ``auth_token``
        the daemon's shared token (the content of its ``server.auth_token_file``), ``str`` or
        ``bytes``; also accepted as the ``auth_token`` keyword argument, which wins.  When set,
        every new connection (the first, and each one opened after a socket error or
        ``fork()``) calls ``auth(token)`` before anything else.  A refused token raises
        :class:`~coordinate.exceptions.RpcError` (kind ``"Unauthenticated"``) at once, without
        retrying.  A daemon without a token accepts ``auth`` with any token.

    A call that fails with a socket error (connection refused or reset, timeout, the daemon
    closing the connection) is re-sent on a new connection, with the same message id, after
    the back-off delay; after ``retries`` retries the last error is raised.  An error *reply*
    is raised at once as :class:`~coordinate.exceptions.RpcError`.

    The client is safe to share between threads (calls are serialised) and notices a
    ``fork()``: the child opens its own connection.
    """

    def __init__(
        self, config: Optional[Mapping[str, Any]] = None, *, auth_token: Optional[Any] = None
    ) -> None:
        if config is None:
            config = {}
        if (
            "address" not in config
            and "addresses" not in config
            and isinstance(config.get("coordinate"), Mapping)
        ):
            config = config["coordinate"]
        self.config = config
        addr = config.get("address")
        addresses = config.get("addresses")
        if not addr and addresses:
            addr = random.choice(list(addresses))
        if not addr:
            addr = ("127.0.0.1", DEFAULT_PORT)
        self._socket_addr: Tuple[str, int] = parse_address(addr)
        self._retries = int(config.get("retries", 5))
        self._base_retry_seconds = float(config.get("base_retry_seconds", 0.5))
        timeout = config.get("socket_timeout", 60.0)
        self._timeout: Optional[float] = None if timeout is None else float(timeout)
        if auth_token is None:
            auth_token = config.get("auth_token")
        if isinstance(auth_token, str):
            auth_token = auth_token.encode("utf-8")
        if auth_token is not None and not isinstance(auth_token, (bytes, bytearray)):
            raise ProgrammerError("auth_token must be str or bytes")
        self._auth_token: Optional[bytes] = bytes(auth_token) if auth_token else None
        self._socket: Optional[socket.socket] = None
        self._rfile: Optional[IO[bytes]] = None
        self._pid = os.getpid()
        self._message_count = 0
        self._lock = threading.RLock()

    @property
    def address(self) -> Tuple[str, int]:
        """The ``(host, port)`` this client talks to."""
        return self._socket_addr

    def _conn(self) -> socket.socket:
        if self._pid != os.getpid():
            # Forked: the parent's socket belongs to the parent.
            self._socket = None
            self._rfile = None
            self._pid = os.getpid()
        if self._socket is None:
            sock = socket.create_connection(self._socket_addr, timeout=self._timeout)
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            sock.settimeout(self._timeout)
            self._socket = sock
            self._rfile = sock.makefile("rb")
            if self._auth_token is not None:
                self._authenticate()
        return self._socket

    def _authenticate(self) -> None:
        """Send ``auth(token)`` on the connection just opened; raise RpcError if refused."""
        assert self._socket is not None and self._rfile is not None
        self._message_count += 1
        msg_id = self._message_count
        self._socket.sendall(wire.encode_message(msg_id, "auth", [self._auth_token]))
        response = wire.load(self._rfile)
        if isinstance(response, dict) and _get(response, "id") == msg_id:
            if b"result" in response or "result" in response:
                return
            err = _get(response, "error")
            message = _get(err, "message") if isinstance(err, Mapping) else err
            # A refused token would be refused again: not a socket error, never retried.
            raise RpcError(str(text(message or repr(response))), "auth")
        raise ProtocolError(f"unexpected reply to auth: {response!r}")

    def close(self) -> None:
        """Close the connection; the next call opens a new one."""
        with self._lock:
            sock, rfile = self._socket, self._rfile
            self._socket = None
            self._rfile = None
            if rfile is not None:
                try:
                    rfile.close()
                except OSError:
                    pass
            if sock is not None and self._pid == os.getpid():
                try:
                    sock.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
                try:
                    sock.close()
                except OSError:
                    pass

    def __enter__(self) -> "CborRpcClient":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def _rpc(self, method_name: str, params: Any = ()) -> Any:
        """Call ``method_name`` on the daemon and return its ``result``.

        ``params`` is a sequence (positional arguments, sent as a list) or a mapping (keyword
        arguments).  Raises :class:`~coordinate.exceptions.RpcError` for an error reply and
        :class:`OSError` when the daemon cannot be reached after all retries.
        """
        if isinstance(params, Mapping):
            wire_params: Any = dict(params)
        else:
            wire_params = list(params)
        with self._lock:
            self._message_count += 1
            msg_id = self._message_count
            buf = wire.encode_message(msg_id, method_name, wire_params)
            tryn = 0
            delay = self._base_retry_seconds
            while True:
                try:
                    conn = self._conn()
                    conn.sendall(buf)
                    assert self._rfile is not None
                    response = wire.load(self._rfile)
                    break
                except (OSError, EOFError) as exc:
                    # EOFError includes cbor2's CBORDecodeEOF: the daemon closed the socket.
                    self.close()
                    if tryn < self._retries:
                        tryn += 1
                        logger.debug(
                            "error in %s (%s), retry %d in %.2fs", method_name, exc, tryn, delay
                        )
                        time.sleep(delay)
                        delay *= 2
                        continue
                    logger.error("rpc %s failed after %d retries: %s", method_name, tryn, exc)
                    if isinstance(exc, OSError):
                        raise
                    raise ConnectionError(
                        f"connection to {self._socket_addr[0]}:{self._socket_addr[1]} closed"
                    ) from exc
                except cbor2.CBORDecodeError as exc:
                    self.close()
                    raise ProtocolError(f"undecodable reply to {method_name}: {exc}") from exc
                except BaseException:
                    # Interrupted mid-call (KeyboardInterrupt, a signal handler's exception):
                    # the stream position is unknown, so start the next call afresh.
                    self.close()
                    raise
            if not isinstance(response, dict):
                self.close()
                raise ProtocolError(f"reply to {method_name} is not a map: {response!r}")
            rid = _get(response, "id")
            if rid != msg_id:
                self.close()
                raise ProtocolError(f"reply id {rid!r} does not match request id {msg_id}")
            if b"result" in response:
                return response[b"result"]
            if "result" in response:
                return response["result"]
            err = _get(response, "error")
            message: Any = None
            if isinstance(err, Mapping):
                message = _get(err, "message")
            elif err is not None:
                message = err
            if not message:
                message = repr(response)
            raise RpcError(str(text(message)), method_name)


def _get(m: Mapping[Any, Any], key: str, default: Any = None) -> Any:
    """``m[key]`` trying the byte-string key first, then the text key."""
    bkey = key.encode("ascii")
    if bkey in m:
        return m[bkey]
    return m.get(key, default)
