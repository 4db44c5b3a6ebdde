"""What the end-to-end tests share: free ports, the installed `tokowa` script, Debian's Chromium."""

from __future__ import annotations

import os
import shutil
import socket
import sys
from pathlib import Path

import pytest

CHROMIUM = "/usr/bin/chromium"
# Chromium as this machine allows it: no sandbox as root, no background calls to Google's hosts.
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
TOKOWA = str(Path(sys.executable).with_name("tokowa"))


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def chromium() -> str:
    """Debian's Chromium; missing fails the test under CI=true and skips it elsewhere."""
    if shutil.which(CHROMIUM) is None:
        if os.environ.get("CI") == "true":
            pytest.fail(f"{CHROMIUM} is missing (apt-get install chromium)")
        pytest.skip(f"{CHROMIUM} is not installed")
    return CHROMIUM
