"""Constants shared by the client, the worker and the daemon."""

from __future__ import annotations

#: Work unit status: ready to be handed out.
AVAILABLE = 1
#: Work unit status: waiting for units it depends on (see ``add_dependent_work_units``).
BLOCKED = 2
#: Work unit status: leased to a worker.
PENDING = 3
#: Work unit status: done.
FINISHED = 4
#: Work unit status: failed (``data['traceback']`` says why).
FAILED = 5

#: Status names, for display.
STATUS_NAMES = {
    AVAILABLE: "available",
    BLOCKED: "blocked",
    PENDING: "pending",
    FINISHED: "finished",
    FAILED: "failed",
}

#: Work spec status (``control_work_spec``): schedulable.
RUNNABLE = 1
#: Work spec status: paused, never scheduled.
PAUSED = 2

#: Global / worker modes.
RUN = "RUN"
IDLE = "IDLE"
TERMINATE = "TERMINATE"
MODES = (RUN, IDLE, TERMINATE)

#: Work unit priorities.
PRI_GENERATED = -1
PRI_STANDARD = 0
PRI_PRIORITY = 1

#: Default TCP port of the daemon.
DEFAULT_PORT = 5932
