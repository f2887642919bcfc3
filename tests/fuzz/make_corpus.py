#!/usr/bin/python3
"""Writes the seed corpora of the fuzz targets (tests/fuzz/corpus/<target>/).

Usage: /usr/bin/python3 tests/fuzz/make_corpus.py   (from any directory; needs python3-cbor2)

Requests are encoded as the Python clients send them: maps with byte-string keys, tuples as
tag 128, usually wrapped in tag 24. Rerunning rewrites the same files; the corpus of
cbor_decode_fuzz (corpus/cbor) is not generated here.
"""
import os
import struct
import sys

import cbor2
from cbor2 import CBORTag

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))


def T(*items):
    """A Python tuple on the wire (tag 128 over an array)."""
    return CBORTag(128, list(items))


def request(n, method, *params, wrap=True):
    msg = cbor2.dumps({b"id": n, b"method": method.encode(), b"params": list(params)})
    return cbor2.dumps(CBORTag(24, msg)) if wrap else msg


def batch(*calls):
    """A batch: an array of request maps, answered with one array."""
    return cbor2.dumps([
        {b"id": i + 1, b"method": m.encode(), b"params": list(p)} for i, (m, *p) in enumerate(calls)
    ])


SPEC = {b"name": b"ws1", b"min_gb": 1, b"priority": 5, b"max_retries": 2}
SPEC2 = {b"name": "ws2", b"continuous": True, b"interval": 10, b"then": b"ws1", b"weight": 3}
UNITS = [T(b"u1", {b"x": 1}), T("u2", {}, {b"priority": 7}), T(b"u3", {b"y": [1, 2.5, None]})]
PATHS = [[b"ns", b"a"], [b"ns", b"b", b"c"]]

# One request per method of src/rpc/methods.cc (backup is skipped by the target).
METHODS = {
    "auth": [b"token"],
    "now": [],
    "get_config": [],
    "set_work_spec": [SPEC],
    "get_work_spec": [b"ws1"],
    "list_work_specs": [{b"limit": 10, b"start": b""}],
    "del_work_spec": [b"ws1"],
    "clear": [],
    "control_work_spec": [b"ws1", {b"status": 2, b"weight": 4, b"max_running": 3}],
    "get_work_spec_meta": [b"ws1"],
    "add_work_units": [b"ws1", UNITS],
    "get_work_units": [b"ws1", {b"state": [1, 3], b"limit": 5, b"start": b""}],
    "get_work_unit_status": [b"ws1", [b"u1", "u2", b"nope"]],
    "count_work_units": [b"ws1"],
    "prioritize_work_units": [b"ws1", {b"work_unit_keys": [b"u1"], b"adjustment": 2.5}],
    "del_work_units": [b"ws1", {b"work_unit_keys": [b"u3"], b"state": 1}],
    "update_work_unit": [b"ws1", b"u1", {b"status": 4, b"data": {b"done": True}}],
    "archive": [{b"work_spec_names": [b"ws1"]}],
    "get_work_unit_attempts": [b"ws1", b"u1"],
    "get_work": [b"w1", {b"available_gb": 8, b"lease_time": 300, b"max_jobs": 2}],
    "worker_heartbeat": [b"w1", b"RUN", 600, {b"host": b"h1", b"pid": 42}, None],
    "worker_unregister": [b"w1"],
    "list_worker_modes": [],
    "get_worker_info": [b"w1"],
    "mode_counts": [],
    "worker_stats": [],
    "get_child_work_units": [b"w1"],
    "set_mode": [b"IDLE"],
    "get_mode": [],
    "add_dependent_work_units": [T(b"ws1", b"later", {}), T(b"ws2", b"earlier", None), True],
    "lock": [b"locker", 60, PATHS],
    "locksome": [b"locker", 30, PATHS + [[b"other"]]],
    "renew": [b"locker", 120, PATHS],
    "readlock": [PATHS],
    "unlock": [b"locker", PATHS],
    "delete_namespace": [b"ns"],
    "list_locks": [],
    "check": [],
}

# Batches that build state inside one input, so a single seed reaches the deeper paths.
SCENARIOS = {
    "batch_work_cycle": batch(
        ("set_work_spec", SPEC), ("add_work_units", b"ws1", UNITS),
        ("get_work", b"w1", {b"lease_time": 30, b"max_jobs": 2}),
        ("update_work_unit", b"ws1", b"u1", {b"status": 4}),
        ("update_work_unit", b"ws1", "u2", {b"status": 5, b"data": {b"err": b"x"}}),
        ("count_work_units", b"ws1"), ("get_work_unit_attempts", b"ws1", b"u1"), ("check",)),
    "batch_chained_specs": batch(
        ("set_work_spec", SPEC), ("set_work_spec", SPEC2),
        ("add_work_units", "ws2", [T(b"c1", {b"k": b"v"})]),
        ("get_work", b"w2", {b"work_spec_names": ["ws2"]}),
        ("update_work_unit", "ws2", b"c1", {b"status": 4, b"output": {b"ws1": [b"next"]}}),
        ("list_work_specs", {}), ("get_work_spec_meta", "ws2")),
    "batch_dependencies": batch(
        ("set_work_spec", SPEC), ("add_work_units", b"ws1", [T(b"a", {}), T(b"b", {})]),
        ("add_dependent_work_units", T(b"ws1", b"a", None), T(b"ws1", b"b", None), True),
        ("get_work_unit_status", b"ws1", [b"a", b"b"]), ("get_work", b"w1", {}),
        ("update_work_unit", b"ws1", b"b", {b"status": 4}), ("count_work_units", b"ws1")),
    "batch_workers": batch(
        ("worker_heartbeat", b"parent", b"RUN", 60, {}, None),
        ("worker_heartbeat", b"child", b"RUN", 60, {b"x": 1}, b"parent"),
        ("set_work_spec", SPEC), ("add_work_units", b"ws1", UNITS[:1]),
        ("get_work", b"child", {}), ("get_child_work_units", b"parent"),
        ("mode_counts",), ("worker_stats",), ("worker_unregister", b"child")),
    "batch_locks": batch(
        ("lock", b"l1", 10, PATHS), ("lock", b"l2", 10, [[b"ns"]]),
        ("locksome", b"l2", 10, [[b"ns", b"z"], [b"ns", b"a", b"deep"]]),
        ("renew", b"l1", 5, PATHS), ("readlock", PATHS), ("list_locks",),
        ("unlock", b"l1", PATHS[:1]), ("delete_namespace", b"ns")),
    "batch_priorities": batch(
        ("set_work_spec", SPEC), ("add_work_units", b"ws1", UNITS),
        ("prioritize_work_units", b"ws1", {b"work_unit_keys": [b"u3"], b"priority": 100}),
        ("get_work_units", b"ws1", {b"limit": 2}), ("get_work", b"w1", {b"max_jobs": 3}),
        ("del_work_units", b"ws1", {b"all": True}), ("del_work_spec", b"ws1")),
    "keyword_params": cbor2.dumps(CBORTag(24, cbor2.dumps(
        {b"id": 9, b"method": b"get_work", b"params": {b"worker_id": b"w", b"options": {}}}))),
    "unknown_method": request(10, "no_such_method", 1, 2),
    "bad_arity": request(11, "count_work_units"),
    "test_only_method": request(12, "_test_advance_clock", 100),
    "not_a_request": cbor2.dumps(CBORTag(24, cbor2.dumps([1, 2, 3]))),
    "text_keys": cbor2.dumps({"id": 1, "method": "count_work_units", "params": ["ws1"]}),
}


def write(target, name, data):
    d = os.path.join(HERE, "corpus", target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def dispatcher():
    for i, (m, params) in enumerate(METHODS.items()):
        write("dispatcher_fuzz", m, request(i + 1, m, *params, wrap=(i % 4 != 3)))
    for name, data in SCENARIOS.items():
        write("dispatcher_fuzz", name, data)


def frame_reader():
    w = lambda n, m, *p: request(n, m, *p)
    write("frame_reader_fuzz", "one_request", w(1, "count_work_units", b"ws1"))
    write("frame_reader_fuzz", "pipelined",
          w(1, "set_work_spec", SPEC) + w(2, "add_work_units", b"ws1", UNITS) +
          w(3, "get_work", b"w1", {}))
    write("frame_reader_fuzz", "unwrapped_then_wrapped",
          request(1, "now", wrap=False) + w(2, "get_mode"))
    write("frame_reader_fuzz", "null_ends", w(1, "now") + cbor2.dumps(None) + w(2, "now"))
    write("frame_reader_fuzz", "tag24_over_int", cbor2.dumps(CBORTag(24, 5)) + w(1, "now"))
    write("frame_reader_fuzz", "tag24_bad_inner", cbor2.dumps(CBORTag(24, b"\x82\x01")))
    write("frame_reader_fuzz", "batch", SCENARIOS["batch_locks"] + SCENARIOS["unknown_method"])
    # Indefinite-length map, array and strings: a request as a streaming encoder writes it.
    write("frame_reader_fuzz", "indefinite",
          b"\xbf\x42id\x01\x46method\x5f\x43get\x45_mode\xff\x46params\x9f\xff\xff")
    write("frame_reader_fuzz", "truncated", w(1, "get_work", b"w1", {b"max_jobs": 1})[:-3])
    write("frame_reader_fuzz", "nested_tags",
          cbor2.dumps(CBORTag(24, cbor2.dumps(CBORTag(24, request(1, "now", wrap=False))))))


def H(s):
    return bytes.fromhex(s.replace(" ", ""))


def record_decode():
    # Golden records from tests/unit/storage/records_test.cc, and variants.
    r = {
        "unit_pending": "8c 01 f5 03 fb3ff8000000000000 a1417801 427731 fb4059000000000000"
                        "fb0000000000000000 02 01 00 00",
        "unit_available": "8c 01 f4 01 fb0000000000000000 a0 f6 f6 fb0000000000000000 00 00 00"
                          "fb4004000000000000",
        "unit_failed_text_worker": "8c 01 f4 05 fbbff0000000000000 a1 6178 d880 82 01 02 6177"
                                   "fb40f86a0000000000 fb0000000000000000 03 02 01 00",
        "spec": "84 01 4173 a1 446e616d65 4173 a0",
        "stats": "84 01 85 01 00 02 03 04 85 00 00 00 05 00 fb0000000000000000",
        "attempt_pending": "86 01 4177 fb3ff0000000000000 fb4000000000000000 f6 67 70656e64696e67",
        "attempt_finished": "86 01 4177 fb3ff0000000000000 fb4000000000000000 fb4008000000000000"
                            "68 66696e6973686564",
        "lock": "84 01 416f fb3ff0000000000000 81 4161",
        "worker": "87 01 4177 43 52554e a0 f6 fb0000000000000000 fb3ff0000000000000",
        "worker_child": "87 01 4163 43 52554e a1 4178 01 4170 fb0000000000000000 fb3ff0000000000000",
        "wrong_version": "84 02 4173 a0 a0",
    }
    for name, hexs in r.items():
        write("record_decode_fuzz", name, H(hexs))
    write("record_decode_fuzz", "spec_control",
          cbor2.dumps([1, "s", {b"name": "s", b"continuous": True}, {b"status": 2}]))
    # Keys: a unit reference, an index key and a status index key.
    ref = struct.pack(">II", 7, 3) + b"key"
    write("record_decode_fuzz", "key_unit_ref", ref + struct.pack(">II", 8, 1) + b"k")
    write("record_decode_fuzz", "key_index", struct.pack(">IQ", 7, 1 << 63) + b"unit-key")
    write("record_decode_fuzz", "key_status_index", struct.pack(">IBQ", 7, 4, 12345) + b"\x00\xff")


def config():
    with open(os.path.join(ROOT, "scripts", "coordinated.yaml"), "rb") as f:
        write("config_fuzz", "coordinated.yaml", f.read())
    c = {
        "python_style.yaml": b"coordinate:\n  address: ['127.0.0.1:5932']\n"
                             b"  server: {host: 0.0.0.0, port: 5932}\n"
                             b"  fork_worker: {pidfile: /tmp/x, num_workers: 4}\n"
                             b"kvlayer:\n  storage_type: redis\n  password: hunter2\n",
        "flow_style.yaml": b"{coordinate: {server: {port: 0x1F4}, storage: {sync: off}}}\n",
        "empty_section.yaml": b"coordinate:\nother: [1, 2, {a: b}]\n",
        "scalars.yaml": b"coordinate:\n  limits:\n    max_frame_bytes: 1_048_576\n"
                        b"    idle_timeout_seconds: 1:30\n    read_timeout_seconds: .inf\n"
                        b"  archive:\n    limit_completed_count: ~\n    limit_completed_age: 3.5e3\n",
        "anchors.yaml": b"base: &b {port: 7000}\ncoordinate:\n  server: *b\n",
        "unknown_key.yaml": b"coordinate:\n  server:\n    prot: 1\n",
        "duplicate_key.yaml": b"coordinate:\n  server: {port: 1, port: 2}\n",
        "wrong_type.yaml": b"coordinate:\n  server:\n    port: abc\n",
        "bad_yaml.yaml": b"coordinate:\n  server: [\n",
        "not_a_map.yaml": b"- 1\n- 2\n",
        "strings.yaml": b"coordinate:\n  logging:\n    level: 'debug'\n    file: \"/tmp/\\u00e9.log\"\n"
                        b"  server:\n    host: !!str 127.0.0.1\n",
        "multi_doc.yaml": b"coordinate: {}\n---\ncoordinate: {server: {port: 1}}\n",
        "tabs_and_bom.yaml": b"\xef\xbb\xbfcoordinate:\n\tserver: {}\n",
        # --set KEY=VALUE: a first byte past the table names the key in the text.
        "set_port": b"\xffserver.port=7000",
        "set_bad_value": b"\xffserver.port=seventy",
        "set_unknown": b"\xffnope.key=1",
        "set_legacy": b"\xffaddress=x",
        "set_row0": b"\x00localhost",
        "set_row1_hex": b"\x010x10",
    }
    for name, data in c.items():
        write("config_fuzz", name, data)


def main():
    dispatcher()
    frame_reader()
    record_decode()
    config()
    return 0


if __name__ == "__main__":
    sys.exit(main())
