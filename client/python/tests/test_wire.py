"""Encoding and decoding, checked against the byte sequences of the original protocol."""

import socket
import threading
import time
import uuid

import pytest

from coordinate import ProtocolError, RpcError, TaskMaster, wire
from coordinate.base_client import parse_address


def h(s):
    return bytes.fromhex(s.replace(" ", "").replace("\n", ""))


def test_request_bytes_match_python2_client():
    # count_work_units(b"ws1"), id 1 (reference-behavior.md section 2.4)
    assert wire.encode_message(1, "count_work_units", [b"ws1"]) == h(
        "D8 18 58 29 A3 42 69 64 01 46 6D 65 74 68 6F 64"
        "50 63 6F 75 6E 74 5F 77 6F 72 6B 5F 75 6E 69 74 73"
        "46 70 61 72 61 6D 73 81 43 77 73 31"
    )
    # get_work(b"worker-1", {max_jobs: 1, lease_time: 900}), id 2, with byte-string option keys
    assert wire.encode_message(2, "get_work", [b"worker-1", {b"max_jobs": 1, b"lease_time": 900}]) == h(
        "D8 18 58 3F A3 42 69 64 02 46 6D 65 74 68 6F 64 48 67 65 74 5F 77 6F 72 6B 46 70 61 72 61 6D 73"
        "82 48 77 6F 72 6B 65 72 2D 31 A2 48 6D 61 78 5F 6A 6F 62 73 01 4A 6C 65 61 73 65 5F 74 69 6D 65 19"
        "03 84"
    )


def test_decode_replies():
    assert wire.decode_message(h("D8 18 55 A2 42 69 64 01 46 72 65 73 75 6C 74 D8 80 82 A2 01 02 03 01 F6")) == {
        b"id": 1, b"result": ({1: 2, 3: 1}, None)}
    msg = wire.decode_message(h(
        "D8 18 58 1F A2 42 69 64 02 46 72 65 73 75 6C 74 D8 80 82 D8 80 83 43 77 73 31 43 77 75 31 A1 41 78 01 F6"))
    assert msg[b"result"] == ((b"ws1", b"wu1", {b"x": 1}), None)
    assert isinstance(msg[b"result"][0], tuple)
    err = wire.decode_message(h("D8 18 58 19 A2 42 69 64 03 45 65 72 72 6F 72 A1 47 6D 65 73 73 61 67 65 44 62 6F 6F 6D"))
    assert err == {b"id": 3, b"error": {b"message": b"boom"}}
    # an untagged map is accepted too
    assert wire.decode_message(wire.dumps({b"id": 4, b"result": None})) == {b"id": 4, b"result": None}


def test_value_round_trip_and_tags():
    u = uuid.UUID("01234567-89ab-cdef-0123-456789abcdef")
    value = [[1, 2, 3], (4, 5, 6), [1, (2, [3, 4])], u, b"foo", "foo", "f\u00fc", 1.5, -7, None, True, {}]
    encoded = wire.dumps(value)
    assert wire.loads(encoded) == value
    back = wire.loads(encoded)
    assert isinstance(back[1], tuple) and isinstance(back[2][1], tuple)
    assert isinstance(back[4], bytes) and isinstance(back[5], str)
    assert wire.dumps(()) == h("D8 80 80")
    assert wire.dumps(u) == h("D8 25 50") + u.bytes
    assert wire.dumps(("k", {})) == h("D8 80 82 61 6B A0")
    assert wire.dumps(1.0) == h("FB 3FF0000000000000")
    assert wire.dumps(2**64 + 1) != b""
    assert wire.loads(wire.dumps({(1, 2): "t"})) == {(1, 2): "t"}
    with pytest.raises(TypeError):
        wire.dumps({1, 2})


def test_parse_address():
    assert parse_address("example:1234") == ("example", 1234)
    assert parse_address("example") == ("example", 5932)
    assert parse_address(("h", "7")) == ("h", 7)
    assert parse_address(["h", 8]) == ("h", 8)
    assert parse_address("[::1]:99") == ("::1", 99)


def _server(replies):
    """A one-shot fake daemon: per accepted connection, run the next behaviour."""
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(8)
    seen = []

    def loop():
        for behaviour in replies:
            conn, _ = srv.accept()
            f = conn.makefile("rb")
            req = wire.load(f)
            seen.append(req)
            if behaviour != "drop":
                conn.sendall(behaviour(req))
            f.close()
            conn.shutdown(socket.SHUT_RDWR)
            conn.close()
        srv.close()

    t = threading.Thread(target=loop, daemon=True)
    t.start()
    return srv.getsockname(), seen, t


def _reply(result):
    def make(req):
        inner = wire.dumps({b"id": req[b"id"], b"result": result})
        return wire.dumps(wire.cbor2.CBORTag(24, inner))
    return make


def test_retry_resends_same_message_after_socket_errors():
    addr, seen, t = _server(["drop", "drop", _reply(("ok", None))])
    tm = TaskMaster({"address": "%s:%d" % addr, "retries": 5, "base_retry_seconds": 0.01})
    assert tm._rpc("now", ()) == ("ok", None)
    t.join(5)
    assert len(seen) == 3
    assert seen[0] == seen[1] == seen[2]
    assert seen[0][b"method"] == b"now" and seen[0][b"id"] == 1


def test_retries_exhausted_raises_socket_error():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()  # nothing listens there now
    tm = TaskMaster({"address": "127.0.0.1:%d" % port, "retries": 2, "base_retry_seconds": 0.05})
    start = time.monotonic()
    with pytest.raises(OSError):
        tm._rpc("now", ())
    assert time.monotonic() - start >= 0.05 + 0.1 - 0.01  # 0.05 then 0.1 (doubling)


def test_error_reply_and_bad_id():
    def err(req):
        inner = wire.dumps({b"id": req[b"id"], b"error": {b"message": b"InvalidArgument: nope"}})
        return wire.dumps(wire.cbor2.CBORTag(24, inner))

    def bad_id(req):
        inner = wire.dumps({b"id": 999, b"result": 1})
        return wire.dumps(wire.cbor2.CBORTag(24, inner))

    addr, seen, t = _server([err, bad_id])
    tm = TaskMaster({"address": addr, "retries": 0})
    with pytest.raises(RpcError) as ei:
        tm._rpc("x", ())
    assert str(ei.value) == "InvalidArgument: nope" and ei.value.kind == "InvalidArgument"
    assert ei.value.method == "x"
    tm.close()
    with pytest.raises(ProtocolError):
        tm._rpc("y", ())


def test_addresses_pick_one():
    tm = TaskMaster({"addresses": ["a:1", "b:2"]})
    assert tm.address in (("a", 1), ("b", 2))
    assert TaskMaster({"coordinate": {"address": "c:3"}}).address == ("c", 3)
    assert TaskMaster({}).address == ("127.0.0.1", 5932)
    assert TaskMaster({}).default_lifetime == 900


def test_timeout_is_a_socket_error():
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(5)  # accepts connections, never answers
    tm = TaskMaster({"address": srv.getsockname(), "retries": 1, "base_retry_seconds": 0.01,
                     "socket_timeout": 0.2})
    start = time.monotonic()
    with pytest.raises(TimeoutError):
        tm._rpc("now", ())
    assert time.monotonic() - start >= 0.4  # two attempts
    srv.close()
