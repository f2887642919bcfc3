"""The client API: :class:`TaskMaster` and :class:`WorkUnit`.

This is the Python 3 port of the original ``coordinate.job_client``: the same method names,
parameters and return values, talking to ``coordinated`` over CBOR-RPC.  Names and keys are
sent with the type the caller gives them (``str`` as CBOR text, ``bytes`` as CBOR bytes) and
come back the same way.

.. autoclass:: WorkUnit
   :members:

.. autoclass:: TaskMaster
   :members:
"""

from __future__ import annotations

import copy
import logging
import time
import traceback as traceback_module
from collections.abc import Mapping
from typing import (
    Any,
    Dict,
    Iterable,
    Iterator,
    List,
    Optional,
    Sequence,
    Tuple,
    Union,
)

from .base_client import CborRpcClient, _get, text
from .constants import (
    AVAILABLE,
    BLOCKED,
    FAILED,
    FINISHED,
    IDLE,
    PAUSED,
    PENDING,
    PRI_PRIORITY,
    RUN,
    RUNNABLE,
    TERMINATE,
)
from .exceptions import NoSuchWorkSpec, ProgrammerError

logger = logging.getLogger(__name__)

__all__ = ["TaskMaster", "WorkUnit", "MAX_LEASE_SECONDS", "MIN_LEASE_SECONDS", "overlay_config"]

#: A lease may not be longer than one day.
MAX_LEASE_SECONDS = 24 * 3600
#: Leases shorter than this draw a warning: lag happens.
MIN_LEASE_SECONDS = 10

#: A work spec name or work unit key: ``str`` (CBOR text) or ``bytes`` (CBOR bytes).
Name = Union[str, bytes]
#: A lock key path: a list or tuple of labels.
KeyPath = Sequence[Any]


def _str_keys(m: Any) -> Any:
    """Turn the byte-string keys of a map the daemon built into ``str`` keys."""
    if not isinstance(m, Mapping):
        return m
    return {(k.decode("utf-8", "replace") if isinstance(k, bytes) else k): v for k, v in m.items()}


def _decode_tree(value: Any) -> Any:
    """Byte strings that are UTF-8 become ``str``, through maps and lists (for daemon-built
    structures such as its configuration)."""
    if isinstance(value, bytes):
        try:
            return value.decode("utf-8")
        except UnicodeDecodeError:
            return value
    if isinstance(value, Mapping):
        return {_decode_tree(k): _decode_tree(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_decode_tree(v) for v in value]
    if isinstance(value, tuple):
        return tuple(_decode_tree(v) for v in value)
    return value


def _status_entry(st: Any) -> Any:
    st = _str_keys(st)
    if isinstance(st, dict) and isinstance(st.get("traceback"), bytes):
        st["traceback"] = text(st["traceback"])
    return st


def overlay_config(base: Any, overlay: Any) -> Any:
    """Overlay ``overlay`` on ``base`` as yakonfig did.

    Maps merge recursively; a ``None`` value in ``overlay`` deletes the key; anything else in
    ``overlay`` replaces the value in ``base``.  Neither argument is modified.
    """
    if not isinstance(base, Mapping) or not isinstance(overlay, Mapping):
        return copy.deepcopy(overlay)
    out = copy.deepcopy(dict(base))
    for k, v in overlay.items():
        if v is None:
            out.pop(k, None)
        elif isinstance(v, Mapping) and isinstance(out.get(k), Mapping):
            out[k] = overlay_config(out[k], v)
        else:
            out[k] = copy.deepcopy(v)
    return out


def format_traceback(exc: Any) -> str:
    """The text stored in ``data['traceback']`` for ``exc`` (an exception or a string)."""
    if isinstance(exc, BaseException):
        return "".join(traceback_module.format_exception(type(exc), exc, exc.__traceback__))
    return str(text(exc))


class WorkUnit:
    """One work unit, as handed to a worker by :meth:`TaskMaster.get_work`.

    The ``run_function`` named by the work spec receives this object.  It may change
    :attr:`data` and call :meth:`update` to renew its lease (and save the data); the worker
    calls :meth:`finish` or :meth:`fail` when the function returns or raises.
    """

    def __init__(
        self,
        taskmaster: Optional["TaskMaster"],
        work_spec_name: Any,
        key: Any,
        data: Any,
        worker_id: Optional[Any] = None,
        expires: Optional[float] = None,
        default_lease_time: float = 900,
    ) -> None:
        #: The :class:`TaskMaster` this unit came from.
        self.taskmaster = taskmaster
        #: Name of the work spec (``str`` or ``bytes``, as the daemon stored it).
        self.work_spec_name = work_spec_name
        #: Key of the work unit (``str`` or ``bytes``).
        self.key = key
        #: The unit's data, normally a dict.
        self.data = data
        #: Worker holding the lease.
        self.worker_id = worker_id
        #: Approximate lease expiry (Unix seconds), when known.
        self.expires = expires
        #: How long :meth:`update` extends the lease by default.
        self.default_lease_time = default_lease_time
        self._spec_cache: Optional[Dict[Any, Any]] = None
        self._old_data = copy.deepcopy(data)

    def __str__(self) -> str:
        return f"work unit {self.work_spec_name!r} {self.key!r} {self.data!r}"

    def __repr__(self) -> str:
        return (
            f"WorkUnit(work_spec_name={self.work_spec_name!r}, key={self.key!r}, "
            f"worker_id={self.worker_id!r}, expires={self.expires!r}, "
            f"default_lease_time={self.default_lease_time!r}, data={self.data!r})"
        )

    @property
    def spec(self) -> Dict[Any, Any]:
        """The work spec definition (fetched from the daemon on first use)."""
        if self._spec_cache is None:
            if self.taskmaster is not None:
                self._spec_cache = self.taskmaster.get_work_spec(self.work_spec_name)
            if self._spec_cache is None:
                raise ProgrammerError(
                    f"need work spec value for spec={self.work_spec_name!r} unit={self.key!r}"
                )
        return self._spec_cache

    @spec.setter
    def spec(self, value: Dict[Any, Any]) -> None:
        self._spec_cache = value

    def _do_update(self, **kwargs: Any) -> bool:
        if self.taskmaster is None:
            raise ProgrammerError("work unit has no TaskMaster")
        changed = self.data != self._old_data
        if changed:
            kwargs["data"] = self.data
        ok = self.taskmaster.update_work_unit(self.work_spec_name, self.key, **kwargs)
        if changed:
            self._old_data = copy.deepcopy(self.data)
        return ok

    def update(self, lease_time: Optional[float] = None) -> bool:
        """Renew the lease for ``lease_time`` seconds (default :attr:`default_lease_time`).

        Changed :attr:`data` is saved too.  ``update(-1)`` gives the lease up at once.
        Returns what the daemon said (``False`` if the unit no longer exists).
        """
        if lease_time is None:
            lease_time = self.default_lease_time
        if lease_time > MAX_LEASE_SECONDS:
            logger.debug("limiting lease to %d seconds (requested %s)", MAX_LEASE_SECONDS, lease_time)
            lease_time = MAX_LEASE_SECONDS - 1
        ok = self._do_update(lease_time=lease_time)
        if ok:
            self.expires = time.time() + lease_time
        return ok

    def finish(self) -> bool:
        """Mark the unit FINISHED (saving changed :attr:`data`; ``then`` chaining fires)."""
        return self._do_update(status=FINISHED)

    def fail(self, exc: Any = None) -> bool:
        """Mark the unit FAILED.

        With ``exc`` (an exception or a string) its formatted traceback is stored in
        ``data['traceback']``.
        """
        if exc is not None:
            if self.data is None:
                self.data = {}
            if isinstance(self.data, dict):
                self.data["traceback"] = format_traceback(exc) or repr(exc)
        return self._do_update(status=FAILED)

    def run(self) -> Any:
        """Run the spec's ``run_function`` on this unit and :meth:`finish` it on success.

        Exceptions propagate (the caller decides whether to :meth:`fail`).
        """
        from .workunit_run import run as workunit_run

        return workunit_run(self, self.spec)


class TaskMaster(CborRpcClient):
    """Client-side interface to the ``coordinated`` job system.

    ``config`` is a mapping: ``address`` (``"host:port"``) or ``addresses`` (a list, one is
    picked at random), ``retries`` (5), ``base_retry_seconds`` (0.5, doubling),
    ``default_lifetime`` (900, the lease :meth:`get_work` asks for) and ``socket_timeout``
    (60), ``auth_token`` (the daemon's token, also a keyword argument).  See
    :class:`~coordinate.base_client.CborRpcClient`.

    Methods that the daemon answers with an ``(ok, message)`` pair return ``ok`` and log the
    message; an error reply raises :class:`~coordinate.exceptions.RpcError`.
    """

    # states for the system as a whole
    RUN = RUN
    IDLE = IDLE
    TERMINATE = TERMINATE

    # states for a work unit
    AVAILABLE = AVAILABLE
    BLOCKED = BLOCKED
    PENDING = PENDING
    FINISHED = FINISHED
    FAILED = FAILED

    def __init__(
        self, config: Optional[Mapping[str, Any]] = None, *, auth_token: Optional[Any] = None
    ) -> None:
        super().__init__(config, auth_token=auth_token)
        #: Lease length :meth:`get_work` asks for when none is given.
        self.default_lifetime: float = self.config.get("default_lifetime", 900)
        #: Worker id of the worker using this TaskMaster (set by the worker framework).
        self.worker_id: Optional[Any] = None

    def _pair(self, method: str, params: Any) -> Tuple[Any, Optional[str]]:
        reply = self._rpc(method, params)
        if isinstance(reply, (tuple, list)) and len(reply) == 2:
            first, msg = reply
            return first, text(msg) if msg is not None else None
        return reply, None

    # ---- work specs -----------------------------------------------------------------------

    @classmethod
    def validate_work_spec(cls, work_spec: Mapping[Any, Any]) -> None:
        """Check that ``work_spec`` has a ``name`` and a numeric ``min_gb``.

        :raise coordinate.exceptions.ProgrammerError: if it does not
        """
        if not isinstance(work_spec, Mapping):
            raise ProgrammerError("work_spec must be a dict")
        if _get(work_spec, "name") is None:
            raise ProgrammerError(f'work_spec lacks "name": {dict(work_spec)!r}')
        min_gb = _get(work_spec, "min_gb")
        if isinstance(min_gb, bool) or not isinstance(min_gb, (int, float)):
            raise ProgrammerError('work_spec["min_gb"] must be a number')

    def set_work_spec(self, work_spec: Mapping[Any, Any]) -> bool:
        """Add or replace a work spec (a dict with ``name`` and ``min_gb``).

        Re-submitting a spec replaces its definition (and un-pauses it); its units stay.

        :raise coordinate.exceptions.ProgrammerError: if it is not valid
        """
        self.validate_work_spec(work_spec)
        ok, msg = self._pair("set_work_spec", (work_spec,))
        if msg:
            logger.debug("set_work_spec: %s", msg)
        return bool(ok)

    def get_work_spec(self, work_spec_name: Name) -> Optional[Dict[Any, Any]]:
        """The definition of ``work_spec_name``, or ``None`` if there is no such spec."""
        return self._rpc("get_work_spec", (work_spec_name,))

    def pause_work_spec(self, work_spec_name: Name, paused: bool = True) -> bool:
        """Pause (``paused=True``) or resume a work spec."""
        return self.control_work_spec(work_spec_name, {"status": PAUSED if paused else RUNNABLE})

    def control_work_spec(self, work_spec_name: Name, options: Mapping[str, Any]) -> bool:
        """Change ``status``, ``continuous``, ``weight``, ``interval`` or ``max_running``."""
        ok, msg = self._pair("control_work_spec", (work_spec_name, dict(options)))
        if msg:
            logger.debug("control_work_spec: %s", msg)
        return bool(ok)

    def get_work_spec_meta(self, work_spec_name: Name) -> Optional[Dict[str, Any]]:
        """``{status, continuous, interval, max_running, weight}`` or ``None``."""
        meta, msg = self._pair("get_work_spec_meta", (work_spec_name,))
        if msg:
            logger.debug("get_work_spec_meta: %s", msg)
        return _str_keys(meta) if meta is not None else None

    def list_work_specs(
        self, limit: Optional[int] = None, start: Optional[Any] = None
    ) -> Tuple[List[Tuple[Any, Dict[Any, Any]]], Optional[Any]]:
        """A page of work specs, sorted by name.

        Returns ``([(name, definition), ...], next)`` where ``next`` is the name to pass as
        ``start`` for the following page (``None`` after the last page).  ``start`` is a
        spec name (inclusive); an ``int`` is taken as a zero-based index.
        """
        if isinstance(start, int) and not isinstance(start, bool):
            specs = list(self.iter_work_specs())
            page = specs[start:] if limit is None else specs[start : start + limit]
            after = start + len(page)
            nxt = _get(specs[after], "name") if after < len(specs) else None
            return [(_get(s, "name"), s) for s in page], nxt
        options: Dict[str, Any] = {}
        if limit is not None:
            options["limit"] = limit
        if start is not None:
            options["start"] = start
        ws_list, nxt = self._rpc("list_work_specs", (options,))
        return [(_get(spec, "name"), spec) for spec in ws_list], nxt

    def iter_work_specs(
        self, limit: Optional[int] = None, start: Optional[Any] = None
    ) -> Iterator[Dict[Any, Any]]:
        """Yield work spec definitions in name order, fetching them a page at a time."""
        count = 0
        page_size = 100
        while limit is None or count < limit:
            want = page_size if limit is None else min(page_size, limit - count)
            options: Dict[str, Any] = {"limit": want}
            if start is not None:
                options["start"] = start
            ws_list, start = self._rpc("list_work_specs", (options,))
            for ws in ws_list:
                yield ws
                count += 1
            if start is None or not ws_list:
                break

    def clear(self) -> int:
        """Delete every work spec and work unit; returns the number of specs deleted."""
        return self._rpc("clear", ())

    def del_work_spec(self, work_spec_name: Name) -> bool:
        """Delete a work spec and all its units."""
        ok, msg = self._pair("del_work_spec", (work_spec_name,))
        if msg:
            logger.debug("del_work_spec: %s", msg)
        return bool(ok)

    def add_flow(self, flow: Mapping[str, Any], config: Optional[Mapping[str, Any]] = None) -> None:
        """Add a set of related work specs.

        ``flow`` maps names to work specs (a dict with ``min_gb``) or to nested flows, whose
        specs get dotted names (``parent.child``).  Each spec gets ``name`` and ``config``
        (``config`` overlaid with the spec's own ``config``).  Every ``then`` must name a spec
        of the flow; nothing is submitted unless the whole flow is valid.

        :raise coordinate.exceptions.ProgrammerError: on an invalid flow
        """
        if config is None:
            config = {}
        work_specs: Dict[str, Dict[Any, Any]] = {}
        worklist: List[Tuple[str, Any]] = list(flow.items())
        while worklist:
            k, v = worklist.pop()
            if not isinstance(v, Mapping):
                raise ProgrammerError("invalid work spec flow definition")
            if "min_gb" in v:
                spec = dict(v)
                spec["name"] = k
                if "config" in spec:
                    spec["config"] = overlay_config(config, spec["config"])
                else:
                    spec["config"] = copy.deepcopy(dict(config))
                work_specs[k] = spec
            else:
                for kk, vv in v.items():
                    worklist.append((f"{k}.{kk}", vv))
        for k, v in work_specs.items():
            if "then" in v and v["then"] not in work_specs:
                raise ProgrammerError(f"work spec {k} chained to invalid work spec {v['then']}")
        for spec in work_specs.values():
            self.set_work_spec(spec)

    def update_bundle(
        self,
        work_spec: Mapping[Any, Any],
        work_units: Union[Mapping[Any, Any], Iterable[Any]],
        nice: Optional[int] = None,
    ) -> None:
        """Set ``work_spec`` and add ``work_units`` to it.

        ``nice``, if given, is stored in the spec (it sets the weight to ``20 - nice``).
        """
        if nice is not None:
            work_spec = dict(work_spec)
            work_spec["nice"] = nice
        self.set_work_spec(work_spec)
        self.add_work_units(_get(work_spec, "name"), work_units)

    # ---- work units -----------------------------------------------------------------------

    def add_work_units(
        self, work_spec_name: Name, work_unit_key_vals: Union[Mapping[Any, Any], Iterable[Any]]
    ) -> bool:
        """Add (or reset) work units.

        ``work_unit_key_vals`` is a dict of key to data, or a list of ``(key, data)``,
        ``(key, data, meta)`` or ``(key, data, meta, priority)``; ``meta`` may hold
        ``priority`` and ``delay`` (seconds before the unit may run).  One batch, one RPC.
        Returns ``False`` if the work spec does not exist.
        """
        if isinstance(work_unit_key_vals, Mapping):
            items: List[Any] = list(work_unit_key_vals.items())
        else:
            items = list(work_unit_key_vals)
        ok, msg = self._pair("add_work_units", (work_spec_name, items))
        if msg:
            logger.info("add_work_units: %s", msg)
        return bool(ok)

    def count_work_units(self, work_spec_name: Name) -> Any:
        """``{status: count}`` for the spec (archived units included); ``False`` if unknown."""
        counts, msg = self._pair("count_work_units", (work_spec_name,))
        if msg:
            logger.debug("count_work_units: %s", msg)
        return counts

    def status(self, work_spec_name: Name) -> Dict[str, int]:
        """Counts as ``num_available``, ``num_pending``, ``num_blocked``, ``num_finished``,
        ``num_failed`` and their sum ``num_tasks``.

        :raise coordinate.exceptions.NoSuchWorkSpec: if the spec does not exist
        """
        counts, msg = self._pair("count_work_units", (work_spec_name,))
        if not isinstance(counts, Mapping):
            raise NoSuchWorkSpec(msg or f"no such work_spec {work_spec_name!r}")
        return {
            "num_available": counts.get(AVAILABLE, 0),
            "num_pending": counts.get(PENDING, 0),
            "num_blocked": counts.get(BLOCKED, 0),
            "num_finished": counts.get(FINISHED, 0),
            "num_failed": counts.get(FAILED, 0),
            "num_tasks": sum(counts.values()),
        }

    def prioritize_work_units(
        self,
        work_spec_name: Name,
        work_unit_keys: Sequence[Any],
        priority: Optional[float] = None,
        adjustment: Optional[float] = None,
    ) -> bool:
        """Set (``priority``) or adjust (``adjustment``) the priority of some units.

        With neither, the priority becomes :data:`~coordinate.constants.PRI_PRIORITY` (1).
        Higher priorities run first.  Missing keys are ignored.
        """
        if priority is None and adjustment is None:
            priority = PRI_PRIORITY
        ok, msg = self._pair(
            "prioritize_work_units",
            (
                work_spec_name,
                {"work_unit_keys": list(work_unit_keys), "priority": priority, "adjustment": adjustment},
            ),
        )
        if msg:
            logger.debug("prioritize_work_units: %s", msg)
        return bool(ok)

    def get_work_units(
        self,
        work_spec_name: Name,
        work_unit_keys: Optional[Sequence[Any]] = None,
        state: Optional[Union[int, Sequence[int]]] = None,
        limit: Optional[int] = None,
        start: Optional[Any] = None,
    ) -> Optional[List[Tuple[Any, Any]]]:
        """``[(key, data), ...]`` for some units of a spec, or ``None`` if it does not exist.

        With ``work_unit_keys``, exactly those keys in that order (``data`` ``None`` for a
        missing key) and nothing else applies.  Otherwise units in ``state`` (a status or a
        list of them; priority order) or all units (key order), from key ``start``
        (inclusive), at most ``limit`` (default 1000, at most 10000).
        """
        options: Dict[str, Any] = {}
        if work_unit_keys is not None:
            options["work_unit_keys"] = list(work_unit_keys)
        if state is not None:
            options["state"] = state
        if limit is not None:
            options["limit"] = limit
        if start is not None:
            options["start"] = start
        units, msg = self._pair("get_work_units", (work_spec_name, options))
        if msg:
            logger.debug("get_work_units: %s", msg)
        return units

    def _list_work_units(
        self, work_spec_name: Name, start: int, limit: Optional[int], state: Any
    ) -> Dict[Any, Any]:
        if limit is not None:
            limit += start
        units = self.get_work_units(work_spec_name, limit=limit, state=state) or []
        return dict((k, v) for (k, v) in units[start:])

    def list_work_units(
        self, work_spec_name: Name, start: int = 0, limit: Optional[int] = None
    ) -> Dict[Any, Any]:
        """``{key: data}`` of AVAILABLE and PENDING units; ``start`` is a zero-based offset."""
        return self._list_work_units(work_spec_name, start, limit, (AVAILABLE, PENDING))

    def list_finished_work_units(
        self, work_spec_name: Name, start: int = 0, limit: Optional[int] = None
    ) -> Dict[Any, Any]:
        """``{key: data}`` of FINISHED units; ``start`` is a zero-based offset."""
        return self._list_work_units(work_spec_name, start, limit, FINISHED)

    def del_work_units(
        self,
        work_spec_name: Name,
        work_unit_keys: Optional[Sequence[Any]] = None,
        state: Optional[int] = None,
        all: bool = False,  # noqa: A002 - the original API's name
    ) -> int:
        """Delete units: ``all``, or the given keys (only those in ``state`` if given), or
        every unit in ``state``.  With no option nothing is deleted.  Returns the count."""
        options: Dict[str, Any] = {}
        if work_unit_keys is not None:
            options["work_unit_keys"] = list(work_unit_keys)
        if state is not None:
            options["state"] = state
        if all is True:
            options["all"] = True
        count, msg = self._pair("del_work_units", (work_spec_name, options))
        if msg:
            logger.debug("del_work_units: %s", msg)
        return count

    def get_work_unit_status(self, work_spec_name: Name, work_unit_keys: Any) -> Any:
        """Status dicts for some units, aligned with ``work_unit_keys``.

        Each is ``None`` for a missing unit, else a dict with ``status``, ``expiration``
        (lease deadline or completion time), and when known ``worker_id``, ``traceback``
        and ``depends_on``.  A single key (``str`` or ``bytes``) gets a single status back.
        Returns ``None`` if the spec does not exist.
        """
        one = isinstance(work_unit_keys, (str, bytes))
        keys = [work_unit_keys] if one else list(work_unit_keys)
        statuses, msg = self._pair("get_work_unit_status", (work_spec_name, keys))
        if msg:
            logger.debug("get_work_unit_status: %s", msg)
        if statuses is None:
            return None
        statuses = [_status_entry(s) for s in statuses]
        return statuses[0] if one else statuses

    def update_work_unit(
        self,
        work_spec_name: Name,
        work_unit_key: Any,
        lease_time: Optional[float] = None,
        status: Optional[int] = None,
        data: Optional[Any] = None,
        worker_id: Optional[Any] = None,
    ) -> bool:
        """Renew a lease and/or change a unit's status (and data).

        ``lease_time`` is seconds from now; ``status`` one of the status constants; ``data``
        replaces the unit's data (only together with ``lease_time`` or ``status``).
        Returns ``False`` when nothing was done (unknown unit, nothing to do).
        """
        options: Dict[str, Any] = {}
        if lease_time is not None:
            if lease_time >= MAX_LEASE_SECONDS:
                raise ValueError(f"lease_time too big {lease_time} >= {MAX_LEASE_SECONDS}")
            options["lease_time"] = lease_time
        if status is not None:
            options["status"] = status
        if data is not None:
            options["data"] = data
        if worker_id is not None:
            options["worker_id"] = worker_id
        ok, msg = self._pair("update_work_unit", (work_spec_name, work_unit_key, options))
        if msg:
            logger.debug("update_work_unit: %s", msg)
        return bool(ok)

    def retry(self, work_spec_name: Name, *work_unit_names: Any) -> bool:
        """Put units (in any state) back in the AVAILABLE queue.  True if all succeeded."""
        allok = True
        for wukey in work_unit_names:
            if not self.update_work_unit(work_spec_name, wukey, lease_time=0, status=AVAILABLE):
                logger.warning("failed to update for retry key %r", wukey)
                allok = False
        return allok

    def archive(self, work_spec_names: Optional[Sequence[Any]] = None) -> None:
        """Apply the daemon's archive limits now (to some specs, or all)."""
        options: Dict[str, Any] = {}
        if work_spec_names is not None:
            options["work_spec_names"] = list(work_spec_names)
        self._rpc("archive", (options,))

    def add_dependent_work_units(
        self,
        later: Tuple[Any, Any, Any],
        earlier: Tuple[Any, Any, Any],
        hard: bool = True,
    ) -> bool:
        """Make unit ``later`` wait for unit ``earlier`` (each ``(spec, key, data_or_None)``).

        ``later`` stays BLOCKED until every unit it depends on is FINISHED.  When ``earlier``
        fails: with ``hard`` ``later`` fails too, otherwise it is released.  Units given with
        data are added (or reset) first.  Returns ``False`` (and logs why) when refused, for
        example when the dependency would close a cycle.
        """
        ok, msg = self._pair("add_dependent_work_units", (tuple(later), tuple(earlier), bool(hard)))
        if msg:
            logger.warning("add_dependent_work_units: %s", msg)
        return bool(ok)

    def get_work_unit_attempts(self, work_spec_name: Name, work_unit_key: Any) -> Optional[List[Dict[str, Any]]]:
        """Every lease of a unit, oldest first, or ``None`` for an unknown spec or unit.

        Each attempt is a dict with ``worker_id``, ``start``, ``expires`` (lease deadline),
        ``end`` (or ``None``) and ``status`` (``"pending"``, ``"expired"``, ``"finished"``,
        ``"failed"`` or ``"retried"``).
        """
        attempts, msg = self._pair("get_work_unit_attempts", (work_spec_name, work_unit_key))
        if attempts is None:
            if msg:
                logger.debug("get_work_unit_attempts: %s", msg)
            return None
        out = []
        for a in attempts:
            a = _str_keys(a)
            if isinstance(a, dict) and isinstance(a.get("status"), bytes):
                a["status"] = text(a["status"])
            out.append(a)
        return out

    # ---- work -----------------------------------------------------------------------------

    def get_work(
        self,
        worker_id: Any,
        available_gb: Optional[float] = None,
        lease_time: Optional[float] = None,
        work_spec_names: Optional[Sequence[Any]] = None,
        max_jobs: Optional[int] = 1,
    ) -> Union[None, WorkUnit, List[WorkUnit]]:
        """Lease work for ``worker_id``.

        With ``max_jobs`` 1 (the default) returns one :class:`WorkUnit` or ``None``;
        otherwise a list (empty when there is no work), all from one work spec.  The lease is
        ``lease_time`` seconds (default :attr:`default_lifetime`); ``work_spec_names``
        restricts the choice.
        """
        options: Dict[str, Any] = {}
        if lease_time is None:
            lease_time = self.default_lifetime
        if lease_time is not None:
            if lease_time >= MAX_LEASE_SECONDS:
                raise ValueError(f"lease_time too big {lease_time} >= {MAX_LEASE_SECONDS}")
            if lease_time < MIN_LEASE_SECONDS:
                logger.debug("get_work lease_time small %s < %s", lease_time, MIN_LEASE_SECONDS)
            options["lease_time"] = lease_time
        if work_spec_names is not None:
            options["work_spec_names"] = list(work_spec_names)
        if available_gb is not None:
            if isinstance(available_gb, bool) or not isinstance(available_gb, (int, float)):
                raise ValueError(f"available_gb must be a number, got {type(available_gb)!r}")
            options["available_gb"] = available_gb
        if max_jobs is not None:
            if isinstance(max_jobs, bool) or not isinstance(max_jobs, int):
                raise ValueError(f"max_jobs must be int, got {type(max_jobs)!r}")
            options["max_jobs"] = max_jobs
        keydata, msg = self._pair("get_work", (worker_id, options))
        if msg:
            logger.info("get_work: %s", msg)
        expires = time.time() + lease_time if lease_time else None
        if max_jobs is None or max_jobs == 1:
            if keydata is None or keydata[0] is None or keydata[1] is None:
                return None
            return WorkUnit(
                self, keydata[0], keydata[1], keydata[2], worker_id,
                expires=expires, default_lease_time=lease_time,
            )
        return [
            WorkUnit(self, kd[0], kd[1], kd[2], worker_id, expires=expires, default_lease_time=lease_time)
            for kd in (keydata or [])
        ]

    # ---- global mode ----------------------------------------------------------------------

    def set_mode(self, mode: str) -> bool:
        """Set the global mode: ``RUN``, ``IDLE`` (workers take no new work) or
        ``TERMINATE`` (workers finish what they hold and exit).  Durable.

        :raise ValueError: for any other mode
        """
        ok, msg = self._pair("set_mode", (mode,))
        if not ok:
            raise ValueError(msg or f"bad mode {mode!r}")
        return True

    def get_mode(self) -> str:
        """The global mode (``RUN`` until set)."""
        return str(text(self._rpc("get_mode", ())))

    # ---- workers --------------------------------------------------------------------------

    def worker_register(
        self,
        worker_id: Any,
        mode: Optional[str] = None,
        lifetime: float = 6000,
        environment: Optional[Mapping[Any, Any]] = None,
        parent: Optional[Any] = None,
    ) -> bool:
        """Announce a worker (the same as :meth:`worker_heartbeat`)."""
        return self.worker_heartbeat(worker_id, mode, lifetime, environment, parent)

    def worker_heartbeat(
        self,
        worker_id: Any,
        mode: Optional[str] = None,
        lifetime: float = 6000,
        environment: Optional[Mapping[Any, Any]] = None,
        parent: Optional[Any] = None,
    ) -> bool:
        """Record that a worker is alive for ``lifetime`` more seconds, in ``mode``, with
        ``environment`` as its data (see :meth:`get_heartbeat`) and optional ``parent``."""
        env = dict(environment) if environment is not None else None
        ok, msg = self._pair("worker_heartbeat", (worker_id, mode, lifetime, env, parent))
        if not ok:
            logger.error("worker_heartbeat: %r", msg)
        elif msg:
            logger.debug("worker_heartbeat: %s", msg)
        return bool(ok)

    def worker_unregister(self, worker_id: Any, parent: Optional[Any] = None) -> bool:
        """Remove a worker from the live set."""
        ok, msg = self._pair("worker_unregister", (worker_id,))
        if not ok:
            logger.debug("worker_unregister: %r", msg)
        return bool(ok)

    def workers(self, alive: bool = True) -> Dict[Any, Any]:
        """``{worker_id: mode}`` for the live workers."""
        data, msg = self._pair("list_worker_modes", ())
        if msg:
            logger.warning("list_worker_modes: %r", msg)
        return data

    def get_heartbeat(self, worker_id: Any) -> Optional[Dict[Any, Any]]:
        """The data of a worker's last heartbeat, or ``None`` if unknown or expired."""
        data, msg = self._pair("get_worker_info", (worker_id,))
        if msg:
            logger.warning("get_worker_info: %r", msg)
        return data

    def mode_counts(self) -> Dict[Any, int]:
        """``{mode: number of live workers}``."""
        data, msg = self._pair("mode_counts", ())
        if msg:
            logger.warning("mode_counts: %r", msg)
        return data

    def worker_stats(self) -> Dict[str, int]:
        """``{num_workers, num_children, num_expirable}``."""
        return _str_keys(self._rpc("worker_stats", ()))

    def get_child_work_units(self, worker_id: Any) -> Dict[Any, List[WorkUnit]]:
        """``{child_id: [WorkUnit, ...]}`` for the units the children of ``worker_id`` hold.

        Idle children are left out.  A unit may already be expired or held by another
        worker; its :attr:`WorkUnit.worker_id` says who holds it.
        """
        wudict, msg = self._pair("get_child_work_units", (worker_id,))
        if msg:
            logger.error("get_child_work_units: %r", msg)
        out: Dict[Any, List[WorkUnit]] = {}
        for child, parts_list in (wudict or {}).items():
            if parts_list:
                out[child] = [
                    WorkUnit(
                        self,
                        _get(parts, "work_spec_name"),
                        _get(parts, "work_unit_key"),
                        _get(parts, "work_unit_data"),
                        worker_id=_get(parts, "worker_id"),
                        expires=_get(parts, "expires"),
                    )
                    for parts in parts_list
                ]
        return out

    # ---- locks ----------------------------------------------------------------------------

    def lock(self, locker_id: Any, timeout: int, key_paths: Sequence[KeyPath]) -> Tuple[bool, Optional[str]]:
        """Lock every path in ``key_paths`` for ``timeout`` seconds (0 = 60), or none.

        A path (a list of labels) can be locked when neither it, an ancestor nor a
        descendant is locked by anyone.  Locks are durable.  Returns ``(ok, message)``.
        """
        return self._pair("lock", (locker_id, timeout, list(key_paths)))

    def locksome(self, locker_id: Any, timeout: int, key_paths: Sequence[KeyPath]) -> List[Optional[Any]]:
        """Lock whichever paths can be locked; returns a list aligned with ``key_paths``
        holding each path locked, or ``None`` where it could not be."""
        got, _msg = self._pair("locksome", (locker_id, timeout, list(key_paths)))
        return list(got) if got is not None else []

    def renew(self, locker_id: Any, timeout: int, key_paths: Sequence[KeyPath]) -> Tuple[bool, Optional[str]]:
        """Extend locks ``locker_id`` holds on every path; ``(ok, message)``."""
        return self._pair("renew", (locker_id, timeout, list(key_paths)))

    def readlock(self, key_paths: Sequence[KeyPath]) -> List[Optional[Any]]:
        """The current owner of each path (``None`` where unlocked)."""
        return list(self._rpc("readlock", (list(key_paths),)) or [])

    def unlock(self, locker_id: Any, key_paths: Sequence[KeyPath]) -> Tuple[bool, Optional[str]]:
        """Release locks ``locker_id`` holds on every path (all or nothing); ``(ok, message)``."""
        return self._pair("unlock", (locker_id, list(key_paths)))

    def delete_namespace(self, namespace: Any) -> int:
        """Drop every lock whose path starts with the label ``namespace``; returns 0 (as the
        Go daemon did)."""
        return self._rpc("delete_namespace", (namespace,))

    def list_locks(self) -> List[Tuple[Any, Any, float]]:
        """Every held lock as ``(path, owner, deadline)``."""
        return [tuple(entry) for entry in (self._rpc("list_locks", ()) or [])]  # type: ignore[misc]

    # ---- misc -----------------------------------------------------------------------------

    def get_server_config(self) -> Dict[Any, Any]:
        """The daemon's configuration (secrets removed), with ``str`` keys and strings."""
        data, msg = self._pair("get_config", ())
        if msg:
            logger.warning("get_config: %r", msg)
        return _decode_tree(data)

    def now(self) -> float:
        """The daemon's clock, Unix seconds."""
        return float(self._rpc("now", ()))
