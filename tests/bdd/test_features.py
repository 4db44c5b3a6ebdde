"""Every scenario of `features/*.feature`, on every wiring (see tests/bdd/conftest.py)."""

from __future__ import annotations

import pytest
from pytest_bdd import scenarios

pytestmark = pytest.mark.usefixtures("world")

scenarios(".")
