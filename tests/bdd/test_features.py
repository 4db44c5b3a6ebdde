"""Every scenario of `features/*.feature`, on every wiring (see tests/bdd/conftest.py)."""

from __future__ import annotations

import pytest
from pytest_bdd import scenarios

pytestmark = [
    pytest.mark.usefixtures("world"),
    # The webhook steps build the whole web app per scenario; its route declarations'
    # deprecation notices belong to the web suites, not to every scenario here.
    pytest.mark.filterwarnings("ignore::litestar.exceptions.base_exceptions.LitestarDeprecationWarning"),
]

scenarios(".")
