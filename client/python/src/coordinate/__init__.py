"""Python 3 client library and worker for ``coordinated``, the durable job-coordination
daemon (wire-compatible with the original Python 2 ``coordinate``).

>>> from coordinate import TaskMaster
>>> tm = TaskMaster({'address': '127.0.0.1:5932'})
>>> tm.set_work_spec({'name': 'spec', 'min_gb': 1, 'module': 'mymod', 'run_function': 'go'})
>>> tm.add_work_units('spec', {'unit': {'x': 1}})
>>> unit = tm.get_work('my-worker')
>>> unit.finish()
"""

from __future__ import annotations

from .base_client import CborRpcClient
from .constants import (
    AVAILABLE,
    BLOCKED,
    FAILED,
    FINISHED,
    IDLE,
    PAUSED,
    PENDING,
    PRI_GENERATED,
    PRI_PRIORITY,
    PRI_STANDARD,
    RUN,
    RUNNABLE,
    TERMINATE,
)
from .exceptions import (
    CoordinateError,
    LostLease,
    NoSuchWorkSpec,
    ProgrammerError,
    ProtocolError,
    RpcError,
)
from .job_client import TaskMaster, WorkUnit

__version__ = "1.0.0"

__all__ = [
    "TaskMaster",
    "WorkUnit",
    "CborRpcClient",
    "CoordinateError",
    "LostLease",
    "NoSuchWorkSpec",
    "ProgrammerError",
    "ProtocolError",
    "RpcError",
    "AVAILABLE",
    "BLOCKED",
    "PENDING",
    "FINISHED",
    "FAILED",
    "RUNNABLE",
    "PAUSED",
    "RUN",
    "IDLE",
    "TERMINATE",
    "PRI_GENERATED",
    "PRI_STANDARD",
    "PRI_PRIORITY",
    "__version__",
]
