"""Every `make`, `tokowa` and `curl` example in a fenced shell block of README.md and docs/*.md,
run, so none goes stale (docs/testing.md, "The docs test").

- `tokowa`: a valid command line for `tokowa`'s own parser, then run in a directory holding a
  demo shop (with the customer 081234567890), README first and then docs/ by name, on the same
  shop; it must exit 0.
- `curl`: against a `tokowa serve` started here on another demo shop with TOKOWA_ADMIN_TOKEN
  set, `127.0.0.1:8000` replaced by its address, `--fail-with-body` added.
- `make`: `make -n TARGET` (nothing runs; `make test` does not run itself): the target exists
  and every `tokowa` line of its recipe is a valid command line.
- Any other program fails unless it is in NOT_RUN. A block after
  `<!-- docs-test: skip (reason) -->` is not run; its `tokowa` lines are still parsed.
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from entrypoints.cli import parser
from tests.support.processes import TOKOWA, free_port

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
SHELL_BLOCKS = {"sh", "bash", "shell", "console"}
DOCUMENTED_HOST = "http://127.0.0.1:8000"
TOKEN = "docs-test-token"
CUSTOMER = "081234567890"
# Programs an example may show that this test does not run, and why.
NOT_RUN = {
    "pytest": "the test suite itself (make test runs it)",
    "python": "a one-off helper (generating a key)",
    "pg_dump": "needs the operator's PostgreSQL",
    "pg_restore": "needs the operator's PostgreSQL",
    "export": "sets a variable for the lines below it",
}
CLEARED = ("TOKOWA_", "WHATSAPP_", "GOWA_", "MIDTRANS_", "DATABASE_URL", "REDIS_URL", "MAKEFLAGS", "MAKELEVEL")
_FENCE = re.compile(r"^\s*```\s*([\w-]*)\s*$")
_SKIP = re.compile(r"<!--\s*docs-test:\s*skip\s*\((?P<reason>[^)]+)\)\s*-->")
_ASSIGNMENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*=")


@dataclass(frozen=True)
class Example:
    page: str
    line: int
    text: str  # the command as written (continuation lines joined)
    skipped: str | None  # the reason given in the page, or None: it runs

    @property
    def id(self) -> str:
        return f"{self.page}:{self.line}"


def _examples() -> list[Example]:
    found: list[Example] = []
    for path in PAGES:
        lines = path.read_text(encoding="utf-8").splitlines()
        in_block, lang, skip, previous = False, "", None, ""
        pending: list[str] = []
        start = 0
        for number, line in enumerate(lines, 1):
            fence = _FENCE.match(line)
            if fence and not in_block:
                in_block, lang = True, fence.group(1)
                marker = _SKIP.search(previous)
                skip = marker.group("reason").strip() if marker else None
                continue
            if fence and in_block:
                in_block = False
                continue
            if line.strip():
                previous = line if not in_block else previous
            if not in_block or lang not in SHELL_BLOCKS:
                continue
            if not pending:
                start = number
            stripped = line.strip()
            if stripped.endswith("\\"):
                pending.append(stripped[:-1])
                continue
            command = " ".join([*pending, stripped]).strip()
            pending = []
            if command and not command.startswith("#"):
                found.append(Example(str(path.relative_to(ROOT)), start, command, skip))
    return found


EXAMPLES = _examples()


def _words(example: Example) -> tuple[dict[str, str], str, list[str]]:
    """The variables set in front, the program's name and its arguments."""
    words = shlex.split(example.text, comments=True)
    env = {}
    while words and _ASSIGNMENT.match(words[0]):
        name, _, value = words.pop(0).partition("=")
        env[name] = value
    assert words, f"{example.id}: no command in {example.text!r}"
    return env, Path(words[0]).name, words[1:]


def _check_tokowa_arguments(where: str, args: list[str]) -> None:
    try:
        parser().parse_args(args)
    except SystemExit:
        pytest.fail(f"{where}: `tokowa {' '.join(args)}` is not a valid tokowa command line")


def _clean_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(CLEARED)}
    env.update({"TOKOWA_SERVER_JOBS": "false", "TOKOWA_ADMIN_TOKEN": TOKEN, **extra})
    return env


@dataclass(frozen=True)
class World:
    shop_dir: Path  # where `tokowa` examples run: a demo shop, the customer, `.venv` as in the repo
    url: str  # a `tokowa serve` on its own demo shop, the customer known to it


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    served, here = tmp_path_factory.mktemp("served"), tmp_path_factory.mktemp("shop")
    port = free_port()
    env = _clean_env(TOKOWA_PORT=str(port), TOKOWA_ADMIN_NUMBERS=CUSTOMER)
    demo = subprocess.run([TOKOWA, "demo"], cwd=served, env=env, capture_output=True, text=True, timeout=120)
    assert demo.returncode == 0, demo.stderr
    process = subprocess.Popen([TOKOWA, "serve"], cwd=served, env=env, stdout=subprocess.DEVNULL,
                               stderr=subprocess.PIPE, text=True)
    url = f"http://127.0.0.1:{port}"
    try:
        # The terminal's shop is made while the server starts.
        (here / ".venv").symlink_to(ROOT / ".venv")
        for args, stdin in ((["demo"], ""), (["chat", "--user", CUSTOMER], ".menu\n")):
            done = subprocess.run([TOKOWA, *args], cwd=here, env=_clean_env(), input=stdin, capture_output=True,
                                  text=True, timeout=120)
            assert done.returncode == 0, done.stderr
        deadline = time.monotonic() + 60
        while True:
            if process.poll() is not None:
                pytest.fail(f"tokowa serve exited: {process.stderr.read() if process.stderr else ''}")
            try:
                if httpx.get(f"{url}/healthz", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, "tokowa serve did not start within 60 s"
            time.sleep(0.2)
        httpx.post(f"{url}/sim/messages", json={"user": CUSTOMER, "text": ".saldo"}, timeout=30).raise_for_status()
        yield World(here, url)
    finally:
        process.terminate()
        try:
            process.communicate(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def test_the_pages_have_examples_and_every_skip_says_why() -> None:
    assert {e.page for e in EXAMPLES} >= {"README.md", "docs/operations.md", "docs/testing.md"}
    for path in PAGES:
        for marker in re.finditer(r"<!--\s*docs-test:[^>]*-->", path.read_text(encoding="utf-8")):
            assert _SKIP.fullmatch(marker.group(0)), f"{path.name}: {marker.group(0)} (write: skip (reason))"


@pytest.mark.parametrize("example", EXAMPLES, ids=[f"{e.id} {e.text[:40]}" for e in EXAMPLES])
def test_example(example: Example, request: pytest.FixtureRequest) -> None:
    env, program, args = _words(example)
    if program == "tokowa":
        _check_tokowa_arguments(example.id, args)
    if example.skipped is not None:
        # Marked as needing the outside world (Meta, Midtrans, the reader's PostgreSQL): what can be
        # checked here, a `tokowa` line's arguments, was checked above; the rest is not run.
        return
    if program == "tokowa":
        assert not args or args[0] != "serve", f"{example.id}: `tokowa serve` runs until stopped: mark its block"
        here = request.getfixturevalue("world").shop_dir
        done = subprocess.run([TOKOWA, *args], cwd=here, env=_clean_env(**env), input=".menu\n",
                              capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, f"{example.id}: {example.text}\n{done.stdout}\n{done.stderr}"
    elif program == "curl":
        url = request.getfixturevalue("world").url
        command = example.text.replace(DOCUMENTED_HOST, url).replace("curl ", "curl -sS --fail-with-body ", 1)
        assert url in command, f"{example.id}: a curl example should talk to {DOCUMENTED_HOST}"
        done = subprocess.run(["bash", "-c", command], env=_clean_env(**env), capture_output=True, text=True,
                              timeout=60)
        assert done.returncode == 0, f"{example.id}: {example.text}\n{done.stdout}\n{done.stderr}"
    elif program == "make":
        done = subprocess.run(["make", "-n", *args], cwd=ROOT, env=_clean_env(**env), capture_output=True,
                              text=True, timeout=60)
        assert done.returncode == 0, f"{example.id}: {example.text}\n{done.stderr}"
        for line in done.stdout.splitlines():
            words = shlex.split(line) if "bin/tokowa " in line else []
            for i, word in enumerate(words):
                if word.endswith("bin/tokowa"):
                    _check_tokowa_arguments(f"{example.id} (make -n)", words[i + 1:])
    elif program not in NOT_RUN:
        pytest.fail(f"{example.id}: `{program}` is not a command this test knows: run it here, list it in "
                    f"NOT_RUN, or mark its block <!-- docs-test: skip (reason) -->")
