"""Exceptions raised by :mod:`coordinate`."""

from __future__ import annotations

from typing import Optional

__all__ = [
    "CoordinateError",
    "ProgrammerError",
    "RpcError",
    "ProtocolError",
    "LostLease",
    "NoSuchWorkSpec",
]


class CoordinateError(Exception):
    """Base class of every exception this package raises on purpose."""


class ProgrammerError(CoordinateError):
    """The caller used the API incorrectly (for example an invalid work spec)."""


class RpcError(CoordinateError):
    """The daemon answered a call with an error reply.

    ``str(exc)`` and :attr:`message` are the server's message, which starts with a class-like
    word (``NoSuchMethod: ...``, ``InvalidArgument: ...``); :attr:`kind` is that word.
    These are never retried.
    """

    def __init__(self, message: str, method: Optional[str] = None) -> None:
        super().__init__(message)
        #: The server's error message.
        self.message: str = message
        #: The RPC method that failed.
        self.method: Optional[str] = method
        head = message.split(":", 1)[0] if ":" in message else ""
        #: The class-like prefix of the message (``"InvalidArgument"``), or ``""``.
        self.kind: str = head if head.isidentifier() else ""


class ProtocolError(CoordinateError):
    """The daemon sent something that is not a valid CBOR-RPC reply."""


class LostLease(CoordinateError):
    """A worker no longer owns the work unit it was running."""


class NoSuchWorkSpec(CoordinateError, KeyError):
    """The named work spec does not exist (raised where no in-band answer exists)."""

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0]) if self.args else ""
