"""Running a work unit: import the spec's ``module`` and call its ``run_function``."""

from __future__ import annotations

import importlib
import logging
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, Callable, Optional

from .base_client import _get, text
from .exceptions import LostLease, ProgrammerError

if TYPE_CHECKING:  # pragma: no cover
    from .job_client import WorkUnit

logger = logging.getLogger(__name__)

__all__ = ["run", "run_module_func_for_work_unit", "find_function", "call_run_function"]


def find_function(module_name: Any, func_name: Any) -> Callable[..., Any]:
    """Import ``module_name`` and return its attribute ``func_name``."""
    module = importlib.import_module(str(text(module_name)))
    return getattr(module, str(text(func_name)))


def _spec_target(work_spec_dict: Mapping[Any, Any]) -> "tuple[Any, Any, Any]":
    module_name = _get(work_spec_dict, "module")
    if module_name is None:
        raise ProgrammerError(
            f'work spec {_get(work_spec_dict, "name")!r} does not specify a "module" to run from'
        )
    func_name = _get(work_spec_dict, "run_function")
    if func_name is None:
        raise ProgrammerError(
            f'work spec {_get(work_spec_dict, "name")!r} does not specify a "run_function"'
        )
    return module_name, func_name, _get(work_spec_dict, "run_params")


def run(work_unit: "WorkUnit", work_spec_dict: Mapping[Any, Any]) -> Any:
    """Run ``work_unit`` with the ``module`` / ``run_function`` / ``run_params`` of its spec
    and finish it when the function returns (exceptions propagate).

    :raise coordinate.exceptions.ProgrammerError: if the spec names no module or function
    """
    module_name, func_name, params = _spec_target(work_spec_dict)
    return run_module_func_for_work_unit(work_unit, module_name, func_name, params)


def call_run_function(work_unit: "WorkUnit", work_spec_dict: Mapping[Any, Any]) -> Any:
    """Call the spec's ``run_function`` on ``work_unit`` without finishing or failing it."""
    module_name, func_name, params = _spec_target(work_spec_dict)
    return _call(work_unit, find_function(module_name, func_name), params)


def _call(work_unit: "WorkUnit", func: Callable[..., Any], params: Optional[Any]) -> Any:
    args: Sequence[Any] = ()
    kwargs: Mapping[Any, Any] = {}
    if isinstance(params, Mapping):
        kwargs = {str(text(k)): v for k, v in params.items()}
    elif isinstance(params, Sequence) and not isinstance(params, (str, bytes)):
        args = params
    return func(work_unit, *args, **kwargs)


def run_module_func_for_work_unit(
    work_unit: "WorkUnit", module_name: Any, func_name: Any, params: Optional[Any] = None
) -> Any:
    """Call ``module_name.func_name(work_unit, *params)`` (``**params`` for a dict) and
    :meth:`~coordinate.WorkUnit.finish` the unit when it returns.

    Exceptions from the function propagate; the unit is then neither finished nor failed.
    """
    func = find_function(module_name, func_name)
    logger.info("running work unit %r %r", work_unit.work_spec_name, work_unit.key)
    try:
        ret_val = _call(work_unit, func, params)
    except LostLease:
        logger.warning("work unit %r %r lost its lease", work_unit.work_spec_name, work_unit.key)
        raise
    except Exception:
        logger.info("work unit %r %r failed", work_unit.work_spec_name, work_unit.key, exc_info=True)
        raise
    work_unit.finish()
    logger.info("finished work unit %r %r", work_unit.work_spec_name, work_unit.key)
    return ret_val
