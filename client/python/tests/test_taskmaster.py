"""Every TaskMaster call against a real daemon."""

import uuid

import pytest

from coordinate import (
    AVAILABLE,
    BLOCKED,
    FAILED,
    FINISHED,
    PENDING,
    NoSuchWorkSpec,
    ProgrammerError,
    RpcError,
    TaskMaster,
    WorkUnit,
)
from conftest import advance_clock


def spec(name, **kw):
    d = {"name": name, "min_gb": 1, "module": "coordinate_test_jobs", "run_function": "record"}
    d.update(kw)
    return d


# ---- work specs --------------------------------------------------------------------------


def test_work_spec_lifecycle(tm):
    assert tm.get_work_spec("ws") is None
    assert tm.list_work_specs() == ([], None)
    assert tm.set_work_spec(spec("ws", desc="d")) is True
    got = tm.get_work_spec("ws")
    assert got["name"] == "ws" and got["desc"] == "d" and got["min_gb"] == 1
    assert tm.list_work_specs() == ([("ws", got)], None)
    assert list(tm.iter_work_specs()) == [got]
    assert tm.del_work_spec("ws") is True
    assert tm.del_work_spec("ws") is False
    assert tm.get_work_spec("ws") is None


def test_validate_work_spec(tm):
    with pytest.raises(ProgrammerError):
        tm.set_work_spec({"min_gb": 1})
    with pytest.raises(ProgrammerError):
        tm.set_work_spec({"name": "x"})
    with pytest.raises(ProgrammerError):
        tm.set_work_spec({"name": "x", "min_gb": "big"})
    TaskMaster.validate_work_spec({b"name": b"x", b"min_gb": 0.5})


def test_list_and_iter_paging(tm):
    names = ["s%02d" % i for i in range(7)]
    for n in reversed(names):
        tm.set_work_spec(spec(n))
    page, nxt = tm.list_work_specs(limit=3)
    assert [n for n, _ in page] == names[:3] and nxt == names[3]
    page, nxt = tm.list_work_specs(limit=3, start=nxt)
    assert [n for n, _ in page] == names[3:6] and nxt == names[6]
    page, nxt = tm.list_work_specs(limit=3, start=nxt)
    assert [n for n, _ in page] == names[6:] and nxt is None
    # an int start is a zero-based index, as the original docstring said
    page, nxt = tm.list_work_specs(limit=2, start=1)
    assert [n for n, _ in page] == names[1:3] and nxt == names[3]
    assert [s["name"] for s in tm.iter_work_specs()] == names
    assert [s["name"] for s in tm.iter_work_specs(limit=4)] == names[:4]
    assert [s["name"] for s in tm.iter_work_specs(start="s05")] == names[5:]


def test_clear(tm):
    tm.set_work_spec(spec("a"))
    tm.set_work_spec(spec("b"))
    tm.add_work_units("a", [("k", {})])
    assert tm.clear() == 2
    assert tm.list_work_specs() == ([], None)


def test_pause_and_control_and_meta(tm):
    tm.set_work_spec(spec("ws"))
    tm.add_work_units("ws", {"u": {}})
    assert tm.pause_work_spec("ws") is True
    assert tm.get_work_spec_meta("ws")["status"] == 2
    assert tm.get_work("w") is None
    assert tm.pause_work_spec("ws", paused=False) is True
    assert tm.get_work_spec_meta("ws")["status"] == 1
    assert tm.control_work_spec("ws", {"weight": 7, "max_running": 3}) is True
    meta = tm.get_work_spec_meta("ws")
    assert meta["weight"] == 7 and meta["max_running"] == 3 and meta["continuous"] is False
    assert tm.control_work_spec("nope", {"weight": 1}) is False
    assert tm.pause_work_spec("nope") is False
    assert tm.get_work_spec_meta("nope") is None
    assert tm.get_work("w").key == "u"


def test_add_flow(tm):
    flow = {
        "first": {"min_gb": 1, "then": "second", "config": {"k": {"a": 1, "gone": None}}},
        "second": {"min_gb": 2},
        "group": {"inner": {"min_gb": 3}},
    }
    tm.add_flow(flow, config={"k": {"a": 0, "b": 2, "gone": 1}, "top": True})
    names = [n for n, _ in tm.list_work_specs()[0]]
    assert names == ["first", "group.inner", "second"]
    first = tm.get_work_spec("first")
    assert first["then"] == "second"
    assert first["config"] == {"k": {"a": 1, "b": 2}, "top": True}
    assert tm.get_work_spec("group.inner")["config"] == {"k": {"a": 0, "b": 2, "gone": 1}, "top": True}
    with pytest.raises(ProgrammerError):
        tm.add_flow({"x": {"min_gb": 1, "then": "missing"}})
    with pytest.raises(ProgrammerError):
        tm.add_flow({"x": 5})
    assert tm.get_work_spec("x") is None


def test_update_bundle(tm):
    tm.update_bundle(spec("ws"), {"a": {"n": 1}, "b": {"n": 2}}, nice=5)
    assert tm.get_work_spec("ws")["nice"] == 5
    assert tm.get_work_spec_meta("ws")["weight"] == 15
    assert tm.count_work_units("ws") == {AVAILABLE: 2}


# ---- work units --------------------------------------------------------------------------


def test_add_count_status(tm):
    assert tm.add_work_units("nope", {"a": {}}) is False
    assert tm.count_work_units("nope") is False
    with pytest.raises(NoSuchWorkSpec):
        tm.status("nope")
    tm.set_work_spec(spec("ws"))
    assert tm.add_work_units("ws", {"a": {"x": 1}}) is True
    assert tm.add_work_units("ws", [("b", {"x": 2}), ["c", {"x": 3}, {"priority": 5}], ("d", {}, {}, 7)])
    assert tm.count_work_units("ws") == {AVAILABLE: 4}
    assert tm.status("ws") == {
        "num_available": 4, "num_pending": 0, "num_blocked": 0,
        "num_finished": 0, "num_failed": 0, "num_tasks": 4,
    }
    # priority order: d (7), c (5), then a, b by key
    assert [tm.get_work("w%d" % i).key for i in range(4)] == ["d", "c", "a", "b"]
    assert tm.status("ws")["num_pending"] == 4


def test_get_work_units_options(tm):
    tm.set_work_spec(spec("ws"))
    tm.add_work_units("ws", [("k%d" % i, {"i": i}) for i in range(5)])
    assert tm.get_work_units("ws") == [("k%d" % i, {"i": i}) for i in range(5)]
    assert tm.get_work_units("ws", work_unit_keys=["k3", "zz", "k1"]) == [
        ("k3", {"i": 3}), ("zz", None), ("k1", {"i": 1})]
    assert [k for k, _ in tm.get_work_units("ws", limit=2, start="k2")] == ["k2", "k3"]
    tm.get_work("w")  # k0 -> PENDING
    assert [k for k, _ in tm.get_work_units("ws", state=PENDING)] == ["k0"]
    assert [k for k, _ in tm.get_work_units("ws", state=[AVAILABLE])] == ["k1", "k2", "k3", "k4"]
    assert tm.get_work_units("nope") is None
    assert all(isinstance(p, tuple) for p in tm.get_work_units("ws"))


def test_list_work_units_offsets(tm):
    tm.set_work_spec(spec("ws"))
    tm.add_work_units("ws", {"bar": {"b": 1}, "foo": {"f": 1}, "zed": {}})
    assert tm.list_work_units("ws") == {"bar": {"b": 1}, "foo": {"f": 1}, "zed": {}}
    assert tm.list_work_units("ws", start=0, limit=1) == {"bar": {"b": 1}}
    assert tm.list_work_units("ws", start=1, limit=1) == {"foo": {"f": 1}}
    assert tm.list_work_units("ws", start=3, limit=1) == {}
    u = tm.get_work("w")
    u.finish()
    assert tm.list_finished_work_units("ws") == {"bar": {"b": 1}}
    assert "bar" not in tm.list_work_units("ws")


def test_prioritize_work_units(tm):
    tm.set_work_spec(spec("ws"))
    tm.add_work_units("ws", {"a": {}, "b": {}, "c": {}})
    assert tm.prioritize_work_units("ws", ["c"]) is True  # PRI_PRIORITY
    assert tm.get_work("w").key == "c"
    tm.prioritize_work_units("ws", ["a"], priority=10)
    tm.prioritize_work_units("ws", ["b"], adjustment=20)
    assert [tm.get_work("w").key for _ in range(2)] == ["b", "a"]
    assert tm.prioritize_work_units("nope", ["a"]) is False


def test_del_work_units(tm):
    tm.set_work_spec(spec("ws"))
    tm.add_work_units("ws", {"a": {}, "b": {}, "c": {}, "d": {}})
    tm.get_work("w").finish()  # a FINISHED
    assert tm.del_work_units("ws") == 0  # no usable option: nothing
    assert tm.del_work_units("ws", work_unit_keys=["b"]) == 1
    assert tm.del_work_units("ws", work_unit_keys=["c"], state=FINISHED) == 0
    assert tm.del_work_units("ws", state=FINISHED) == 1
    assert tm.del_work_units("ws", all=True) == 2
    assert tm.count_work_units("ws") == {}
    assert tm.del_work_units("nope", all=True) == 0


def test_get_work_unit_status_and_update(tm):
    tm.set_work_spec(spec("ws"))
    tm.add_work_units("ws", {"a": {"x": 1}, "b": {}})
    assert tm.get_work_unit_status("ws", "a")["status"] == AVAILABLE
    u = tm.get_work("me", lease_time=100)
    sts = tm.get_work_unit_status("ws", ["a", "b", "missing"])
    assert sts[0]["status"] == PENDING and sts[0]["worker_id"] == "me"
    assert sts[0]["expiration"] > 0 and sts[1]["status"] == AVAILABLE and sts[2] is None
    assert tm.get_work_unit_status("nope", ["a"]) is None
    assert tm.update_work_unit("ws", "a") is False  # nothing to do
    assert tm.update_work_unit("ws", "a", lease_time=500, data={"x": 2}) is True
    assert tm.get_work_units("ws", work_unit_keys=["a"]) == [("a", {"x": 2})]
    assert tm.update_work_unit("ws", "zz", status=FINISHED) is False
    assert tm.update_work_unit("ws", "a", status=FAILED, data={"traceback": "tb"}) is True
    st = tm.get_work_unit_status("ws", "a")
    assert st["status"] == FAILED and st["traceback"] == "tb"
    with pytest.raises(ValueError):
        tm.update_work_unit("ws", "a", lease_time=86400)
    # FINISHED beats FAILED
    assert tm.update_work_unit("ws", "a", status=FINISHED)
    tm.update_work_unit("ws", "a", status=FAILED)
    assert tm.get_work_unit_status("ws", "a")["status"] == FINISHED
    del u


def test_retry(tm):
    tm.set_work_spec(spec("ws"))
    tm.add_work_units("ws", {"a": {}, "b": {}})
    tm.get_work("w").fail("broken")
    tm.get_work("w").finish()
    assert tm.status("ws")["num_failed"] == 1
    assert tm.retry("ws", "a", "b") is True
    assert tm.count_work_units("ws") == {AVAILABLE: 2}
    assert tm.get_work_units("ws", work_unit_keys=["a"])[0][1]["traceback"] == "broken"
    assert tm.retry("ws", "missing") is False


def test_archive(tm):
    tm.set_work_spec(spec("ws"))
    assert tm.archive() is None
    assert tm.archive(["ws", "nope"]) is None


# ---- get_work and WorkUnit ---------------------------------------------------------------


def test_get_work_shapes(tm):
    assert tm.get_work("w") is None
    assert tm.get_work("w", max_jobs=5) == []
    tm.set_work_spec(spec("ws", max_getwork=3))
    tm.add_work_units("ws", [("u%02d" % i, {"i": i}) for i in range(10)])
    one = tm.get_work("w")
    assert isinstance(one, WorkUnit) and one.key == "u00" and one.data == {"i": 0}
    assert one.work_spec_name == "ws" and one.worker_id == "w" and one.default_lease_time == 900
    many = tm.get_work("w", max_jobs=10, lease_time=60)
    assert [u.key for u in many] == ["u01", "u02", "u03"]  # max_getwork
    assert many[0].default_lease_time == 60
    tm.set_work_spec(spec("other"))
    tm.add_work_units("other", {"o": {}})
    assert tm.get_work("w", work_spec_names=["other"]).key == "o"
    assert tm.get_work("w", work_spec_names=["missing"]) is None
    with pytest.raises(ValueError):
        tm.get_work("w", max_jobs="2")
    with pytest.raises(ValueError):
        tm.get_work("w", available_gb="lots")
    with pytest.raises(ValueError):
        tm.get_work("w", lease_time=100000)
    assert str(one).startswith("work unit 'ws' 'u00'") and "WorkUnit(" in repr(one)


def test_work_unit_update_finish_fail(tm):
    tm.set_work_spec(spec("ws"))
    tm.add_work_units("ws", {"a": {"n": 1}, "b": {"n": 2}})
    a = tm.get_work("w", lease_time=30)
    a.data["n"] = 10
    assert a.update() is True  # saves changed data with the lease
    assert tm.get_work_units("ws", work_unit_keys=["a"])[0][1] == {"n": 10}
    assert a.update(lease_time=100000) is True  # clamped to a day
    assert a.finish() is True
    assert tm.get_work_unit_status("ws", "a")["status"] == FINISHED
    b = tm.get_work("w")
    try:
        raise KeyError("nothing here")
    except KeyError as exc:
        assert b.fail(exc) is True
    st = tm.get_work_unit_status("ws", "b")
    assert st["status"] == FAILED
    assert "KeyError" in st["traceback"] and "test_work_unit_update_finish_fail" in st["traceback"]


def test_work_unit_run_and_spec(tm):
    tm.set_work_spec(spec("ws", run_function="with_params", run_params={"x": 1}))
    tm.add_work_units("ws", {"a": {}})
    u = tm.get_work("w")
    assert u.spec["run_function"] == "with_params"
    u.run()  # imports coordinate_test_jobs and finishes the unit
    assert tm.get_work_units("ws", work_unit_keys=["a"])[0][1] == {"args": [], "kwargs": {"x": 1}}
    assert tm.get_work_unit_status("ws", "a")["status"] == FINISHED
    tm.set_work_spec(spec("ws2", run_function="with_params", run_params=[1, "two"]))
    tm.add_work_units("ws2", {"b": {}})
    tm.get_work("w").run()
    assert tm.get_work_units("ws2", work_unit_keys=["b"])[0][1]["args"] == [1, "two"]
    tm.set_work_spec(spec("ws3", run_function="boom"))
    tm.add_work_units("ws3", {"c": {}})
    c = tm.get_work("w")
    with pytest.raises(ValueError):
        c.run()
    assert tm.get_work_unit_status("ws3", "c")["status"] == PENDING  # caller decides
    orphan = WorkUnit(None, "ws", "a", {})
    with pytest.raises(ProgrammerError):
        orphan.spec


def test_chaining_then_output(tm):
    tm.set_work_spec(spec("first", then="second"))
    tm.set_work_spec(spec("second"))
    tm.add_work_units("first", {"u": {}})
    u = tm.get_work("w", work_spec_names=["first"])
    u.data["output"] = {"next": {"from": "u"}}
    u.finish()
    assert tm.get_work_units("second") == [("next", {"from": "u"})]


def test_names_and_keys_keep_their_type(tm):
    tm.set_work_spec({b"name": b"bspec", b"min_gb": 1})
    tm.set_work_spec(spec("tspec"))
    keys = [b"\x00", b"\xff\x80", b"\xf0\x0f", "t\u00fc", b"plain"]
    tm.add_work_units(b"bspec", [(k, {"k": k}) for k in keys])
    got = dict(tm.get_work_units(b"bspec"))
    for k in keys:
        assert got[k] == {"k": k}
        assert type(next(g for g in got if g == k)) is type(k)
    u = tm.get_work("w", work_spec_names=[b"bspec"])
    assert u.work_spec_name == b"bspec" and isinstance(u.key, bytes)
    assert u.finish()
    assert tm.get_work_unit_status(b"bspec", u.key)["status"] == FINISHED
    names = [n for n, _ in tm.list_work_specs()[0]]
    assert b"bspec" in names and "tspec" in names


def test_data_fidelity(tm):
    tm.set_work_spec(spec("ws"))
    u = uuid.UUID("01234567-89ab-cdef-0123-456789abcdef")
    data = {"list": [1, 2, 3], "tuple": (4, 5, 6), "mixed": [1, (2, [3, 4])], "uuid": u,
            "bytes": b"foo", "text": "foo", "uni": "f\u00fc", "float": 0.25, "none": None,
            b"bkey": True, "nested": {"t": ()}}
    tm.add_work_units("ws", [("k", data)])
    back = tm.get_work_units("ws")[0][1]
    assert back == data
    assert isinstance(back["tuple"], tuple) and isinstance(back["mixed"][1], tuple)
    assert isinstance(back["uuid"], uuid.UUID) and isinstance(back["bytes"], bytes)
    assert b"bkey" in back and "bkey" not in back
    w = tm.get_work("w")
    assert w.data == data


def test_lease_expiry_and_attempts(tm):
    tm.set_work_spec(spec("ws"))
    tm.add_work_units("ws", {"a": {}})
    assert tm.get_work_unit_attempts("ws", "a") == []
    first = tm.get_work("w1", lease_time=30)
    assert tm.get_work("w2") is None
    advance_clock(tm, 31)
    second = tm.get_work("w2", lease_time=30)
    assert second is not None and second.key == "a"
    second.finish()
    attempts = tm.get_work_unit_attempts("ws", "a")
    assert [a["worker_id"] for a in attempts] == ["w1", "w2"]
    assert [a["status"] for a in attempts] == ["expired", "finished"]
    assert attempts[1]["end"] is not None and attempts[0]["expires"] >= attempts[0]["start"] + 30 - 0.01
    assert tm.get_work_unit_attempts("ws", "missing") is None
    assert tm.get_work_unit_attempts("nope", "a") is None
    del first


# ---- modes, workers ----------------------------------------------------------------------


def test_modes(tm):
    assert tm.get_mode() == "RUN"
    assert tm.set_mode(TaskMaster.IDLE) is True
    assert tm.get_mode() == "IDLE"
    assert tm.set_mode("TERMINATE") and tm.get_mode() == "TERMINATE"
    with pytest.raises(ValueError):
        tm.set_mode("SLEEP")
    assert tm.get_mode() == "TERMINATE"
    tm.set_mode("RUN")


def test_workers_and_heartbeats(tm):
    env = {"hostname": "h", "pid": 1, "tags": ("a", "b")}
    assert tm.worker_register("tp-parent", mode="RUN", lifetime=600, environment=env) is True
    assert tm.worker_heartbeat("tp-child", "IDLE", 600, {"pid": 2}, parent="tp-parent") is True
    workers = tm.workers()
    assert workers["tp-parent"] == "RUN" and workers["tp-child"] == "IDLE"
    assert tm.get_heartbeat("tp-parent") == env
    assert tm.get_heartbeat("tp-unknown") is None
    counts = tm.mode_counts()
    assert counts.get("RUN", 0) >= 1 and counts.get("IDLE", 0) >= 1
    stats = tm.worker_stats()
    assert set(stats) == {"num_workers", "num_children", "num_expirable"} and stats["num_workers"] >= 2
    assert tm.get_child_work_units("tp-parent") == {}
    tm.set_work_spec(spec("ws"))
    tm.add_work_units("ws", {"a": {"d": 1}, "b": {}})
    tm.get_work("tp-child")
    kids = tm.get_child_work_units("tp-parent")
    assert list(kids) == ["tp-child"]
    [wu] = kids["tp-child"]
    assert (wu.work_spec_name, wu.key, wu.data, wu.worker_id) == ("ws", "a", {"d": 1}, "tp-child")
    assert wu.expires is not None
    wu.finish()
    assert tm.get_child_work_units("tp-parent") == {}
    assert tm.worker_unregister("tp-child") is True
    assert tm.worker_unregister("tp-child") is False
    assert "tp-child" not in tm.workers()
    tm.worker_unregister("tp-parent")


def test_server_config_and_now(tm):
    cfg = tm.get_server_config()
    assert cfg["coordinate"]["server"]["host"] == "127.0.0.1"
    assert tm.now() > 1.4e9


# ---- dependencies ------------------------------------------------------------------------


def test_dependent_work_units(tm):
    tm.set_work_spec(spec("ws"))
    tm.add_work_units("ws", {"early": {}, "late": {}})
    assert tm.add_dependent_work_units(("ws", "late", None), ("ws", "early", None)) is True
    assert tm.get_work_unit_status("ws", "late")["status"] == BLOCKED
    assert tm.status("ws")["num_blocked"] == 1
    u = tm.get_work("w")
    assert u.key == "early" and tm.get_work("w") is None
    # a cycle is refused
    assert tm.add_dependent_work_units(("ws", "early", None), ("ws", "late", None)) is False
    u.finish()
    assert tm.get_work_unit_status("ws", "late")["status"] == AVAILABLE
    assert tm.get_work("w").key == "late"


def test_dependent_hard_and_soft_failure(tm):
    tm.set_work_spec(spec("ws"))
    # units given with data are created
    assert tm.add_dependent_work_units(("ws", "hard", {"h": 1}), ("ws", "root", {"r": 1}), hard=True)
    assert tm.add_dependent_work_units(("ws", "soft", {}), ("ws", "root", None), hard=False)
    assert tm.count_work_units("ws") == {AVAILABLE: 1, BLOCKED: 2}
    tm.get_work("w").fail("root broke")
    st = tm.get_work_unit_status("ws", ["hard", "soft"])
    assert st[0]["status"] == FAILED and "root" in st[0]["traceback"]
    assert st[1]["status"] == AVAILABLE
    assert tm.add_dependent_work_units(("nope", "a", None), ("ws", "root", None)) is False


# ---- locks -------------------------------------------------------------------------------


def test_locks(tm):
    tm.delete_namespace("tlk")
    p1, p2 = ["tlk", "a"], ("tlk", "b")
    assert tm.lock("me", 30, [p1, p2]) == (True, None)
    assert tm.readlock([p1, p2, ["tlk", "c"]]) == ["me", "me", None]
    ok, msg = tm.lock("you", 30, [["tlk", "a", "child"]])
    assert ok is False and msg
    assert tm.locksome("you", 30, [p1, ["tlk", "c"]]) == [None, ["tlk", "c"]]
    assert tm.renew("me", 60, [p1, p2]) == (True, None)
    assert tm.renew("you", 60, [p1])[0] is False
    assert tm.unlock("you", [p1])[0] is False
    held = {tuple(path): owner for path, owner, _ in tm.list_locks() if path[0] == "tlk"}
    assert held == {("tlk", "a"): "me", ("tlk", "b"): "me", ("tlk", "c"): "you"}
    assert tm.unlock("me", [p1, p2]) == (True, None)
    assert tm.readlock([p1]) == [None]
    assert tm.readlock([]) == []
    assert tm.locksome("me", 30, []) == []
    assert tm.delete_namespace("tlk") == 0  # always 0, as the Go daemon
    assert tm.readlock([["tlk", "c"]]) == [None]


def test_lock_expiry(tm):
    tm.delete_namespace("tle")
    assert tm.lock("me", 5, [["tle", "x"]])[0]
    advance_clock(tm, 6)
    assert tm.readlock([["tle", "x"]]) == [None]
    assert tm.lock("you", 5, [["tle", "x"]])[0]
    tm.delete_namespace("tle")


# ---- errors ------------------------------------------------------------------------------


def test_error_replies_raise_and_connection_survives(tm):
    with pytest.raises(RpcError) as ei:
        tm._rpc("no_such_method", ())
    assert ei.value.kind == "NoSuchMethod" and "no_such_method" in str(ei.value)
    with pytest.raises(RpcError) as ei:
        tm._rpc("get_work_spec", ())
    assert ei.value.kind == "InvalidArgument"
    # keyword parameters work too
    tm.set_work_spec(spec("kw"))
    assert tm._rpc("get_work_spec", {"work_spec_name": "kw"})["name"] == "kw"


def test_reconnects_after_close(tm):
    tm.set_work_spec(spec("ws"))
    tm.close()
    assert tm.get_work_spec("ws")["name"] == "ws"
    # a dead socket under the client: the call is re-sent on a new connection
    import socket
    tm._socket.shutdown(socket.SHUT_RDWR)
    assert tm.get_work_spec("ws")["name"] == "ws"


def test_calls_survive_a_daemon_restart(tmp_path):
    import socket
    import threading
    import time

    from conftest import Daemon, daemon_binary

    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    d = Daemon(daemon_binary(), str(tmp_path), port=port)
    d.start()
    try:
        tm = TaskMaster({"address": d.address, "retries": 8, "base_retry_seconds": 0.1})
        tm.set_work_spec(spec("durable"))
        tm.add_work_units("durable", {"a": {"v": 1}})
        d.stop()
        restarter = threading.Timer(0.5, d.start)
        restarter.start()
        start = time.monotonic()
        # refused while the daemon is down; re-sent once it is back, data intact
        assert tm.get_work_units("durable") == [("a", {"v": 1})]
        assert time.monotonic() - start >= 0.3
        restarter.join()
        tm.close()
    finally:
        d.stop()
