"""Running a parsed chat command: its function in `customer_commands` or `admin_commands`
reads the arguments, calls the use case and renders the result."""

from __future__ import annotations

from application.chat import admin_commands, customer_commands
from application.chat.handlers import HANDLERS, WRITE_COMMANDS, ChatContext, Usage, usage_reply
from application.chat.parser import ParsedCommand
from application.replies import Reply
from application.use_cases.bundle import UseCases

__all__ = ["Commands", "ChatContext", "Usage", "WRITE_COMMANDS", "usage_reply"]
_REGISTERED = (customer_commands, admin_commands)  # importing them registers their commands


class Commands:
    def __init__(self, use_cases: UseCases) -> None:
        self.uc = use_cases

    async def run(self, cmd: ParsedCommand, ctx: ChatContext) -> Reply:
        return await HANDLERS[cmd.name](self.uc, cmd, ctx)
