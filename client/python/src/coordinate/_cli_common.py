"""Command-line plumbing shared by ``coordinate`` and ``coordinate-worker``."""

from __future__ import annotations

import argparse
import json
import logging
import os
from collections.abc import Mapping
from typing import Any, Dict

from .exceptions import ProgrammerError

#: Environment variable giving the daemon address when ``--address`` is not used.
ADDRESS_ENV = "COORDINATE_ADDRESS"


def add_connection_args(parser: argparse.ArgumentParser) -> None:
    """``--address``, ``--config``, ``--verbose``, ``--quiet``."""
    parser.add_argument(
        "-a",
        "--address",
        help=f"daemon address host:port (default ${ADDRESS_ENV}, the config file, "
        "or 127.0.0.1:5932)",
    )
    parser.add_argument(
        "-c",
        "--config",
        metavar="FILE",
        help="client configuration, JSON (or YAML if PyYAML is installed); either the "
        "TaskMaster settings or a file with a top-level 'coordinate' block",
    )
    parser.add_argument("-v", "--verbose", action="count", default=0, help="more logging")
    parser.add_argument("-q", "--quiet", action="store_true", help="log errors only")


def setup_logging(args: argparse.Namespace) -> None:
    level = logging.WARNING
    if args.quiet:
        level = logging.ERROR
    elif args.verbose >= 2:
        level = logging.DEBUG
    elif args.verbose == 1:
        level = logging.INFO
    logging.basicConfig(
        level=level, format="%(asctime)s %(process)d %(name)s %(levelname)s: %(message)s"
    )


def _read_config_file(path: str) -> Dict[str, Any]:
    with open(path, "r", encoding="utf-8") as f:
        content = f.read()
    try:
        data = json.loads(content)
    except ValueError:
        try:
            import yaml  # type: ignore[import-untyped]
        except ImportError as exc:
            raise ProgrammerError(
                f"{path} is not JSON, and PyYAML is not installed to read it as YAML"
            ) from exc
        data = yaml.safe_load(content)
    if data is None:
        data = {}
    if not isinstance(data, Mapping):
        raise ProgrammerError(f"{path}: configuration must be a map")
    return dict(data)


def load_config(args: argparse.Namespace) -> Dict[str, Any]:
    """The TaskMaster configuration from ``--config``, ``--address`` and the environment."""
    config: Dict[str, Any] = {}
    if getattr(args, "config", None):
        config = _read_config_file(args.config)
        if isinstance(config.get("coordinate"), Mapping):
            config = dict(config["coordinate"])
    if getattr(args, "address", None):
        config["address"] = args.address
    elif not config.get("address") and not config.get("addresses") and os.environ.get(ADDRESS_ENV):
        config["address"] = os.environ[ADDRESS_ENV]
    return config
