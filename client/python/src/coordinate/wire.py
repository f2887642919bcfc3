"""CBOR-RPC message encoding, as the original Python 2 client spoke it.

Every message is one CBOR data item: tag 24 ("encoded CBOR data item") around a byte string
that holds the encoded message map.  Inside:

* Python tuples are tag 128 around an array (both directions);
* :class:`uuid.UUID` is tag 37 around the 16 raw bytes;
* ``str`` is a CBOR text string and ``bytes`` a CBOR byte string, so names and keys keep the
  type the caller gave them.

Encoding is done here (``cbor2`` cannot be told to tag tuples); decoding uses ``cbor2`` with a
tag hook for tags 24 and 128 (``cbor2`` decodes tag 37 to :class:`uuid.UUID` itself).
"""

from __future__ import annotations

import math
import struct
import uuid
from collections.abc import Mapping
from typing import IO, Any, Dict

import cbor2

__all__ = [
    "CBOR_TAG_CBOR",
    "CBOR_TAG_UUID",
    "DIFFEO_CBOR_TAG_TUPLE",
    "dumps",
    "loads",
    "load",
    "encode_message",
    "decode_message",
]

#: Tag 24: an encoded CBOR data item inside a byte string (the message envelope).
CBOR_TAG_CBOR = 24
#: Tag 37: a UUID as 16 bytes.
CBOR_TAG_UUID = 37
#: Tag 128 (Diffeo): a Python tuple, as an array.
DIFFEO_CBOR_TAG_TUPLE = 128

_MAX_DEPTH = 200


def _head(out: bytearray, major: int, n: int) -> None:
    mt = major << 5
    if n < 24:
        out.append(mt | n)
    elif n < 0x100:
        out.append(mt | 24)
        out.append(n)
    elif n < 0x10000:
        out.append(mt | 25)
        out += struct.pack(">H", n)
    elif n < 0x100000000:
        out.append(mt | 26)
        out += struct.pack(">I", n)
    else:
        out.append(mt | 27)
        out += struct.pack(">Q", n)


def _encode(obj: Any, out: bytearray, depth: int) -> None:
    if depth > _MAX_DEPTH:
        raise ValueError("value nested too deeply to encode")
    if obj is None:
        out.append(0xF6)
    elif obj is True:
        out.append(0xF5)
    elif obj is False:
        out.append(0xF4)
    elif isinstance(obj, int):
        if 0 <= obj < 2**64:
            _head(out, 0, obj)
        elif -(2**64) <= obj < 0:
            _head(out, 1, -1 - obj)
        else:
            out += cbor2.dumps(obj)  # bignum tags 2 / 3
    elif isinstance(obj, float):
        if math.isnan(obj):
            out += b"\xf9\x7e\x00"
        else:
            out.append(0xFB)
            out += struct.pack(">d", obj)
    elif isinstance(obj, str):
        b = obj.encode("utf-8")
        _head(out, 3, len(b))
        out += b
    elif isinstance(obj, (bytes, bytearray, memoryview)):
        b = bytes(obj)
        _head(out, 2, len(b))
        out += b
    elif isinstance(obj, tuple):
        _head(out, 6, DIFFEO_CBOR_TAG_TUPLE)
        _head(out, 4, len(obj))
        for item in obj:
            _encode(item, out, depth + 1)
    elif isinstance(obj, list):
        _head(out, 4, len(obj))
        for item in obj:
            _encode(item, out, depth + 1)
    elif isinstance(obj, Mapping):
        _head(out, 5, len(obj))
        for k, v in obj.items():
            _encode(k, out, depth + 1)
            _encode(v, out, depth + 1)
    elif isinstance(obj, uuid.UUID):
        _head(out, 6, CBOR_TAG_UUID)
        _head(out, 2, 16)
        out += obj.bytes
    elif isinstance(obj, cbor2.CBORTag):
        _head(out, 6, obj.tag)
        _encode(obj.value, out, depth + 1)
    elif isinstance(obj, (set, frozenset)):
        raise TypeError("cannot send a set over CBOR-RPC; use a list or tuple")
    else:
        # datetime, Decimal, ... : cbor2 knows these leaf types.
        try:
            out += cbor2.dumps(obj)
        except Exception as exc:  # pragma: no cover - depends on cbor2
            raise TypeError(f"cannot encode {type(obj).__name__} as CBOR") from exc


def dumps(obj: Any) -> bytes:
    """Encode ``obj`` as CBOR, tuples as tag 128 and UUIDs as tag 37."""
    out = bytearray()
    _encode(obj, out, 0)
    return bytes(out)


def _tag_hook(decoder: Any, tag: cbor2.CBORTag) -> Any:
    if tag.tag == DIFFEO_CBOR_TAG_TUPLE:
        value = tag.value
        return tuple(value) if isinstance(value, (list, tuple)) else (value,)
    if tag.tag == CBOR_TAG_CBOR and isinstance(tag.value, (bytes, bytearray)):
        return loads(bytes(tag.value))
    if tag.tag == CBOR_TAG_UUID and isinstance(tag.value, (bytes, bytearray)) and len(tag.value) == 16:
        return uuid.UUID(bytes=bytes(tag.value))
    return tag


def loads(data: bytes) -> Any:
    """Decode one CBOR item, turning tag 128 into tuples, 37 into UUIDs, unwrapping tag 24."""
    return cbor2.loads(data, tag_hook=_tag_hook)


def load(fp: IO[bytes]) -> Any:
    """Decode one CBOR item read from the binary file ``fp`` (see :func:`loads`)."""
    return cbor2.load(fp, tag_hook=_tag_hook)


def encode_message(msg_id: int, method: str, params: Any) -> bytes:
    """Encode a request the way the Python 2 client did.

    The map has byte-string keys ``id``, ``method``, ``params`` and a byte-string method name,
    and is wrapped as tag 24 around its encoding.
    """
    inner = dumps({b"id": msg_id, b"method": method.encode("ascii"), b"params": params})
    out = bytearray()
    _head(out, 6, CBOR_TAG_CBOR)
    _head(out, 2, len(inner))
    out += inner
    return bytes(out)


def decode_message(data: bytes) -> Dict[Any, Any]:
    """Decode one whole message (tag 24 wrapped or not)."""
    msg = loads(data)
    if not isinstance(msg, dict):
        raise ValueError(f"CBOR-RPC message is not a map: {msg!r}")
    return msg
