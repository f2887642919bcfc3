"""The worker processes (coordinate-worker, coordinate run_one) against a real daemon."""

import os
import signal
import time

from coordinate import AVAILABLE, FAILED, FINISHED, PENDING
from conftest import advance_clock, wait_for

JOBS = "coordinate_test_jobs"


def spec(name, func, **kw):
    d = {"name": name, "min_gb": 0.1, "module": JOBS, "run_function": func}
    d.update(kw)
    return d


def wait_exit(proc, timeout=20):
    try:
        return proc.wait(timeout=timeout)
    except Exception:
        raise AssertionError(f"process {proc.pid} did not exit")


def test_thousand_units_two_children(tm, procs):
    tm.set_work_spec(spec("many", "record"))
    assert tm.add_work_units("many", [("u%04d" % i, {"i": i}) for i in range(1000)])
    parent = procs.start(
        "coordinate-worker", "--processes", "2", "--worker-id", "the-parent",
        "--poll-interval", "0.1", "--heartbeat-interval", "0.5",
    )
    wait_for(lambda: tm.status("many")["num_finished"] == 1000, timeout=60, what="1000 finished")
    st = tm.status("many")
    assert st["num_available"] == st["num_pending"] == st["num_failed"] == 0
    units = dict(tm.get_work_units("many", limit=2000))
    assert len(units) == 1000
    children = {d["worker_id"] for d in units.values()}
    pids = {d["pid"] for d in units.values()}
    assert len(children) == 2 and len(pids) == 2
    assert {d["ppid"] for d in units.values()} == {parent.pid}
    # both children are live workers whose parent is the parent worker
    workers = tm.workers()
    assert "the-parent" in workers
    for child in children:
        hb = tm.get_heartbeat(child)
        assert hb["parent"] == "the-parent" and hb["pid"] in pids
        assert hb["hostname"] and hb["memory"]["total"] > 0 and "rss" in hb["memory"]
    assert tm.get_heartbeat("the-parent")["processes"] == 2
    # TERMINATE: children and parent exit cleanly and unregister
    tm.set_mode("TERMINATE")
    assert wait_exit(parent) == 0, procs.log(parent)
    assert not children & set(tm.workers()) and "the-parent" not in tm.workers()


def test_failing_unit_gets_traceback(tm, procs):
    tm.set_work_spec(spec("bad", "boom"))
    tm.set_work_spec(spec("good", "record"))
    tm.add_work_units("bad", {"x": {"keep": 1}})
    tm.add_work_units("good", {"y": {}})
    r = procs.run("coordinate-worker", "--exit-when-idle", "--poll-interval", "0.1")
    assert r.returncode == 0, r.stdout + r.stderr
    st = tm.get_work_unit_status("bad", "x")
    assert st["status"] == FAILED
    assert "ValueError: boom on x" in st["traceback"]
    assert "in boom" in st["traceback"] and st["traceback"].startswith("Traceback")
    data = tm.get_work_units("bad", work_unit_keys=["x"])[0][1]
    assert data["keep"] == 1 and data["traceback"] == st["traceback"]
    assert tm.get_work_unit_status("good", "y")["status"] == FINISHED


def test_missing_module_fails_unit(tm, procs):
    tm.set_work_spec({"name": "nomod", "min_gb": 1, "module": "no_such_module_xyz", "run_function": "f"})
    tm.add_work_units("nomod", {"a": {}})
    r = procs.run("coordinate-worker", "--exit-when-idle", "--poll-interval", "0.1")
    assert r.returncode == 0
    st = tm.get_work_unit_status("nomod", "a")
    assert st["status"] == FAILED and "no_such_module_xyz" in st["traceback"]


def test_sigkill_mid_unit_comes_back_after_lease(tm, procs, tmp_path):
    gate, started = str(tmp_path / "gate"), str(tmp_path / "started")
    tm.set_work_spec(spec("gated", "gated"))
    tm.add_work_units("gated", {"g": {"gate": gate, "started": started}})
    w1 = procs.start("coordinate-worker", "--lease-time", "30", "--worker-id", "victim",
                     "--poll-interval", "0.1")
    wait_for(lambda: os.path.exists(started), what="unit started")
    st = tm.get_work_unit_status("gated", "g")
    assert st["status"] == PENDING and st["worker_id"] == "victim"
    w1.send_signal(signal.SIGKILL)
    w1.wait()
    open(gate, "w").close()
    advance_clock(tm, 31)  # the lease runs out
    r = procs.run("coordinate-worker", "--exit-when-idle", "--worker-id", "rescuer",
                  "--poll-interval", "0.1")
    assert r.returncode == 0, r.stdout + r.stderr
    st = tm.get_work_unit_status("gated", "g")
    assert st["status"] == FINISHED and st["worker_id"] == "rescuer"
    attempts = tm.get_work_unit_attempts("gated", "g")
    assert [(a["worker_id"], a["status"]) for a in attempts] == [("victim", "expired"), ("rescuer", "finished")]
    assert tm.get_work_units("gated")[0][1]["worker_id"] == "rescuer"


def test_lease_is_renewed_while_running(tm, procs):
    tm.set_work_spec(spec("slow", "slow"))
    tm.add_work_units("slow", {"s": {"seconds": 4.5}})
    w = procs.start("coordinate-worker", "--lease-time", "3", "--exit-when-idle",
                    "--worker-id", "renewer", "--poll-interval", "0.1")
    wait_for(lambda: tm.get_work_unit_status("slow", "s")["status"] == PENDING, what="pending")
    end = time.monotonic() + 3.8
    while time.monotonic() < end:  # past the 3 s lease nobody else can take it: it is renewed
        assert tm.get_work("thief", lease_time=60, work_spec_names=["slow"]) is None
        time.sleep(0.25)
    assert wait_exit(w) == 0
    assert tm.get_work_unit_status("slow", "s")["status"] == FINISHED
    [attempt] = tm.get_work_unit_attempts("slow", "s")
    assert attempt["worker_id"] == "renewer" and attempt["status"] == "finished"


def test_idle_and_terminate_modes(tm, procs):
    tm.set_work_spec(spec("modes", "record"))
    tm.add_work_units("modes", {"a": {}, "b": {}})
    tm.set_mode("IDLE")
    w = procs.start("coordinate-worker", "--worker-id", "moody", "--poll-interval", "0.1",
                    "--heartbeat-interval", "0.2")
    wait_for(lambda: tm.workers().get("moody") == "IDLE", what="worker reports IDLE")
    time.sleep(0.5)
    assert tm.status("modes")["num_available"] == 2  # IDLE: no new work
    tm.set_mode("RUN")
    wait_for(lambda: tm.status("modes")["num_finished"] == 2, what="units finished after RUN")
    assert w.poll() is None  # still waiting for more work
    tm.set_mode("TERMINATE")
    assert wait_exit(w) == 0
    assert "moody" not in tm.workers()


def test_sigterm_lets_running_unit_finish(tm, procs, tmp_path):
    gate, started = str(tmp_path / "gate"), str(tmp_path / "started")
    tm.set_work_spec(spec("term", "gated"))
    tm.add_work_units("term", {"a": {"gate": gate, "started": started},
                               "b": {"gate": gate, "started": started}})
    w = procs.start("coordinate-worker", "--poll-interval", "0.1")
    wait_for(lambda: os.path.exists(started), what="unit started")
    w.send_signal(signal.SIGTERM)
    time.sleep(0.3)
    assert w.poll() is None  # still running the unit
    open(gate, "w").close()
    assert wait_exit(w) == 0
    st = tm.get_work_unit_status("term", ["a", "b"])
    assert st[0]["status"] == FINISHED  # finished, not failed
    assert st[1]["status"] == AVAILABLE  # nothing new taken


def test_second_sigterm_releases_unit(tm, procs, tmp_path):
    gate, started = str(tmp_path / "gate"), str(tmp_path / "started")
    tm.set_work_spec(spec("abort", "gated"))
    tm.add_work_units("abort", {"a": {"gate": gate, "started": started}})
    w = procs.start("coordinate-worker", "--poll-interval", "0.1")
    wait_for(lambda: os.path.exists(started), what="unit started")
    w.send_signal(signal.SIGTERM)
    time.sleep(0.2)
    w.send_signal(signal.SIGTERM)
    assert wait_exit(w) == 0
    st = tm.get_work_unit_status("abort", "a")
    assert st["status"] == AVAILABLE and "traceback" not in st


def test_parent_sigterm_stops_children(tm, procs, tmp_path):
    gate, started = str(tmp_path / "gate"), str(tmp_path / "started")
    tm.set_work_spec(spec("fam", "gated"))
    tm.add_work_units("fam", {"a": {"gate": gate, "started": started},
                              "b": {"gate": gate, "started": started},
                              "c": {"gate": gate, "started": started}})
    parent = procs.start("coordinate-worker", "--processes", "2", "--worker-id", "fam-parent",
                         "--poll-interval", "0.1")
    wait_for(lambda: os.path.exists(started) and len(open(started).read().split()) == 2,
             what="both children running")
    kids = tm.get_child_work_units("fam-parent")
    assert len(kids) == 2 and all(len(units) == 1 for units in kids.values())
    parent.send_signal(signal.SIGTERM)
    time.sleep(0.3)
    open(gate, "w").close()
    assert wait_exit(parent) == 0
    assert tm.count_work_units("fam") == {FINISHED: 2, AVAILABLE: 1}
    assert "fam-parent" not in tm.workers()


def test_killed_child_is_restarted(tm, procs, tmp_path):
    gate, started = str(tmp_path / "gate"), str(tmp_path / "started")
    tm.set_work_spec(spec("restart", "gated"))
    tm.add_work_units("restart", {"a": {"gate": gate, "started": started}})
    parent = procs.start("coordinate-worker", "--processes", "2", "--poll-interval", "0.1",
                         "--lease-time", "30")
    wait_for(lambda: os.path.exists(started), what="unit started")
    child_pid = int(open(started).read().split()[0])
    os.kill(child_pid, signal.SIGKILL)
    open(gate, "w").close()
    advance_clock(tm, 31)
    wait_for(lambda: tm.get_work_unit_status("restart", "a")["status"] == FINISHED, what="finished")
    assert tm.get_work_units("restart")[0][1]["pid"] != child_pid
    parent.send_signal(signal.SIGTERM)
    assert wait_exit(parent) == 0


def test_run_params_and_work_spec_filter(tm, procs):
    tm.set_work_spec(spec("p", "with_params", run_params={"flag": True}))
    tm.set_work_spec(spec("other", "record"))
    tm.add_work_units("p", {"a": {}})
    tm.add_work_units("other", {"o": {}})
    r = procs.run("coordinate-worker", "--work-spec", "p", "--exit-when-idle", "--poll-interval", "0.1")
    assert r.returncode == 0
    assert tm.get_work_units("p")[0][1] == {"args": [], "kwargs": {"flag": True}}
    assert tm.status("other")["num_available"] == 1


def test_run_one_cli(tm, procs):
    tm.set_work_spec(spec("one", "record"))
    tm.add_work_units("one", {"a": {}, "b": {}, "c": {}})
    r = procs.run("coordinate", "run_one")
    assert r.returncode == 0, r.stdout + r.stderr
    assert tm.status("one")["num_finished"] == 1
    r = procs.run("coordinate", "run_one", "--limit-count", "5", "--from-work-spec", "one")
    assert r.returncode == 2  # the last attempt found no work
    assert tm.status("one")["num_finished"] == 3
    r = procs.run("coordinate", "run_one")
    assert r.returncode == 2
    tm.set_mode("TERMINATE")  # run_one ignores the mode, as the original did
    tm.add_work_units("one", {"d": {}})
    assert procs.run("coordinate", "run_one").returncode == 0
    assert tm.status("one")["num_finished"] == 4


def test_cli_commands(tm, procs):
    tm.set_work_spec(spec("cli", "record"))
    tm.add_work_units("cli", {"a": {}})
    r = procs.run("coordinate", "status", "-W", "cli")
    assert r.returncode == 0 and '"num_available": 1' in r.stdout
    r = procs.run("coordinate", "work_specs")
    assert r.stdout.split() == ["cli"]
    r = procs.run("coordinate", "summary")
    assert "cli" in r.stdout and "Avail" in r.stdout
    r = procs.run("coordinate", "mode", "IDLE")
    assert r.stdout.strip() == "IDLE" and tm.get_mode() == "IDLE"
    r = procs.run("coordinate", "rpc", "count_work_units", "cli")
    assert r.returncode == 0 and r.stdout.strip() == "({1: 1}, None)"
    r = procs.run("coordinate", "rpc", "no_such_method")
    assert r.returncode == 1 and "NoSuchMethod" in r.stderr


def test_worker_class_in_process(tm, config):
    from coordinate.worker import Worker

    tm.set_work_spec(spec("inproc", "record"))
    tm.set_work_spec(spec("inbad", "boom"))
    tm.add_work_units("inproc", {"a": {}, "b": {}, "c": {}})
    tm.add_work_units("inbad", {"x": {}})
    w = Worker(config, exit_when_idle=True, poll_interval=0.05, max_jobs=2, worker_id="inproc-w")
    assert w.register() == "inproc-w"
    assert tm.get_heartbeat("inproc-w")["pid"] == os.getpid()
    assert w.run() is False  # stopped because the last get_work found nothing
    w.unregister()
    assert w.units_done == 4
    assert tm.status("inproc")["num_finished"] == 3 and tm.status("inbad")["num_failed"] == 1
    assert {d["worker_id"] for _, d in tm.get_work_units("inproc")} == {"inproc-w"}
    assert "inproc-w" not in tm.workers()
    # limit_count stops early; stop() before run() means nothing is taken
    tm.add_work_units("inproc", {"d": {}, "e": {}})
    w2 = Worker(config, limit_count=1, poll_interval=0.05)
    w2.register()
    w2.run()
    assert w2.units_done == 1 and tm.status("inproc")["num_available"] == 1
    w2.unregister()
    w3 = Worker(config, poll_interval=0.05)
    w3.register()
    w3.stop()
    w3.run()
    w3.unregister()
    assert w3.units_done == 0 and tm.status("inproc")["num_available"] == 1


def test_cli_config_file_and_env(tm, daemon, tmp_path):
    import json
    import subprocess

    from conftest import command, subprocess_env

    cfg = tmp_path / "c.json"
    cfg.write_text(json.dumps({"coordinate": {"address": daemon.address, "retries": 1}}))
    tm.set_mode("IDLE")
    r = subprocess.run(command("coordinate") + ["-c", str(cfg), "mode"], env=subprocess_env(),
                       capture_output=True, text=True, timeout=30)
    assert r.returncode == 0 and r.stdout.strip() == "IDLE", r.stderr
    env = subprocess_env()
    env["COORDINATE_ADDRESS"] = daemon.address
    r = subprocess.run(command("coordinate") + ["mode", "RUN"], env=env,
                       capture_output=True, text=True, timeout=30)
    assert r.returncode == 0 and tm.get_mode() == "RUN", r.stderr
