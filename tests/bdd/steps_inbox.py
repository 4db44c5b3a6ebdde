"""Steps about messages at the edges of the inbox: a command that crashes every time it runs,
the worker's lease running out, and the messages given up (dead letters)."""

from __future__ import annotations

from typing import Any

import pytest
from pytest_bdd import given, parsers, then, when

from application.chat.commands import Commands
from application.chat.parser import ParsedCommand
from application.replies import Reply
from tests.bdd.phrases import NAME, TEXT
from tests.bdd.wiring import World, number_of


class CommandCrashed(Exception):
    """The bug a crashing command hits."""


@given(parsers.re(r'the command "\.(?P<command>\w+)" crashes every time it runs'))
def command_crashes(command: str, monkeypatch: pytest.MonkeyPatch) -> None:
    run = Commands.run

    async def crashing(self: Commands, cmd: ParsedCommand, ctx: Any) -> Reply:
        if cmd.name == command:
            raise CommandCrashed(f".{command} hit a bug")
        return await run(self, cmd, ctx)

    monkeypatch.setattr(Commands, "run", crashing)


@when(parsers.re(rf'{NAME} sends {TEXT} as message "(?P<message_id>[^"]+)", which crashes'))
def sends_crashing(world: World, name: str, text: str, message_id: str) -> None:
    with pytest.raises(CommandCrashed):  # the worker logs it; the message stays unfinished
        world.say(name, text, message_id)


@when(parsers.re(r"the unfinished messages are taken up again (?P<times>\d+) times?"))
def taken_up_again(world: World, times: str) -> None:
    """Each time the lease of the worker that ran them runs out, and the delivery job runs."""
    for _ in range(int(times)):
        world.clock.advance(minutes=3)
        world.run(world.shop.pipeline.recover())


@then(parsers.re(rf'the message "(?P<message_id>[^"]+)" of {NAME} is kept as given up after (?P<runs>\d+) runs'))
def given_up(world: World, message_id: str, name: str, runs: str) -> None:
    assert [(d.message_id, d.sender, d.attempts) for d in world.dead_letters()] == [(message_id, number_of(name), int(runs))]
