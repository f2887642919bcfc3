"""The installed package (when run_tests.sh installed it with pip)."""

import os

import pytest

import coordinate
from conftest import INSTALLED


def test_package_metadata():
    assert coordinate.__version__
    pkg_dir = os.path.dirname(coordinate.__file__)
    assert os.path.exists(os.path.join(pkg_dir, "py.typed"))


@pytest.mark.skipif(not INSTALLED, reason="testing the source tree, not a pip installation")
def test_installed_with_console_scripts():
    assert coordinate.__file__.startswith(INSTALLED)
    for script in ("coordinate", "coordinate-worker"):
        assert os.path.exists(os.path.join(INSTALLED, "bin", script))
