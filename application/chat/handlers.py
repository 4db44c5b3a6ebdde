"""What every chat command shares: its context, the registry, argument readers, usage replies."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from application.chat.catalog import text
from application.chat.render import mono
from application.chat.parser import ParsedCommand, parse_amount, parse_count
from application.replies import Reply
from application.use_cases.bundle import UseCases
from domain.errors import DomainError
from domain.product import PRODUCT_FIELDS, Tier, product_code
from domain.settings import ShopSettings

# Commands that change state take the per-user lock `lock:{command}:{user}`.
WRITE_COMMANDS = frozenset({
    "buy", "deposit", "batal", "bahasa", "addproduk", "setharga", "addstok", "setstok", "setrole",
    "hapusproduk", "addsaldo", "kurangsaldo", "setproduk", "setting", "kirim",
})


class Usage(Exception):
    """The arguments do not fit the command: answer with its usage line."""

    def __init__(self, command: str) -> None:
        super().__init__(command)
        self.command = command


@dataclass(frozen=True)
class ChatContext:
    user_id: str
    lang: str
    shop: ShopSettings
    is_admin: bool
    message_id: str = ""
    rerun: bool = False  # processed again after its worker died
    tier: Tier = Tier.BRONZE  # read with the language at the start of the message
    confirmed: bool = False  # the customer said yes to this command (a repeat purchase, or any with confirm_purchases)
    too_late: bool = False  # processed too long after it was sent: move no money (unless a run already did)

    @property
    def request_id(self) -> str | None:
        """The message id, which makes an effect happen once however often the message runs."""
        return self.message_id or None

    def t(self, key: str, /, **params: object) -> str:
        return text(key, self.lang, **params)


Handler = Callable[[UseCases, ParsedCommand, ChatContext], Awaitable[Reply]]
HANDLERS: dict[str, Handler] = {}


def command(*names: str) -> Callable[[Handler], Handler]:
    def register(fn: Handler) -> Handler:
        for name in names:
            HANDLERS[name] = fn
        return fn

    return register


def code_arg(cmd: ParsedCommand, index: int = 0) -> str:
    if len(cmd.args) <= index:
        raise Usage(cmd.name)
    try:
        return product_code(cmd.args[index])
    except DomainError:
        raise Usage(cmd.name) from None


def amount_arg(cmd: ParsedCommand, raw: str) -> int:
    value = parse_amount(raw)
    if value is None:
        raise Usage(cmd.name)
    return value


def count_arg(cmd: ParsedCommand, raw: str) -> int:
    value = parse_count(raw)
    if value is None:
        raise Usage(cmd.name)
    return value


PRICE_FIELDS = frozenset({"harga", "harga_silver", "harga_gold"})


def with_lines(value: str, cmd: ParsedCommand) -> str:
    """A text value may go on over the message's next lines (delivery text, terms, welcome)."""
    return "\n".join([value, *cmd.lines]).strip()


def usage_reply(command_name: str, lang: str, example_code: str = "KODE") -> Reply:
    """The command's format, its example naming one of the shop's own products."""
    return Reply(text(f"usage.{command_name}", lang, fields=", ".join(map(mono, PRODUCT_FIELDS)),
                      keys=", ".join(map(mono, ShopSettings.keys())),
                      code=example_code))
