"""From what a customer typed to a command: prefixes, aliases, arguments and amounts."""

from __future__ import annotations

import re
from dataclasses import dataclass

PREFIXES = (".", "/", "!")

CUSTOMER_COMMANDS: dict[str, str] = {
    "menu": "menu", "help": "menu",
    "produk": "produk", "products": "produk", "list": "produk", "detail": "detail",
    "buy": "buy", "beli": "buy",
    "saldo": "saldo", "balance": "saldo",
    "deposit": "deposit", "topup": "deposit",
    "riwayat": "riwayat", "history": "riwayat",
    "status": "status", "cek": "status", "link": "link",
    "batal": "batal", "cancel": "batal",
    "kirimulang": "kirimulang", "resend": "kirimulang",
    "bahasa": "bahasa", "language": "bahasa",
    "admin": "admin", "cs": "admin",
}
ADMIN_COMMANDS: dict[str, str] = {
    name: name for name in (
        "addproduk", "setharga", "addstok", "setstok", "cekstok", "setrole", "hapusproduk",
        "addsaldo", "kurangsaldo", "setproduk", "pesanan", "rekap", "setting", "kirim", "balas", "ok",
    )
} | {"laporan": "rekap", "deliver": "kirim", "reply": "balas"}
# Plain chat that asks for a person: the whole message goes to the admins as `.admin` would.
_ASK_FOR_A_PERSON = re.compile(r"^(?:hubungi\s+admin|cs)(?:\s|[,.:!?]|$)", re.IGNORECASE)

UNKNOWN = "unknown"
_CHOICE_ID = re.compile(r"^([a-z]+):(\S*)$")


@dataclass(frozen=True)
class ParsedCommand:
    name: str
    args: tuple[str, ...] = ()
    rest: str = ""
    lines: tuple[str, ...] = ()
    admin_only: bool = False


_INVISIBLE = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff\u00ad"))


def _tidy(message: str) -> str:
    """Invisible characters out, every other kind of space (no-break, ideographic...) a plain one."""
    return "".join(" " if ch.isspace() and ch not in "\r\n" else ch for ch in message.translate(_INVISIBLE))


def parse(message: str) -> ParsedCommand | None:
    """The command in a message, or None when the message is plain chat.

    Prefixes `.`, `/`, `!` are equivalent, command words are case-insensitive, extra spaces
    are ignored (any Unicode space, and invisible characters phones insert, too); an
    interactive row or button id `buy:NF1` reads as `.buy NF1`."""
    stripped = _tidy(message).strip()
    choice = _CHOICE_ID.match(stripped)
    if choice and choice.group(1) in CUSTOMER_COMMANDS:
        stripped = f".{choice.group(1)} {choice.group(2)}"
    if not stripped.startswith(PREFIXES):
        if _ASK_FOR_A_PERSON.match(stripped):
            return ParsedCommand("admin", tuple(stripped.split()), stripped)
        return None
    first, *more = stripped[1:].split("\n")
    word, _, rest = first.strip().partition(" ")
    word = word.lower()
    lines = tuple(line for line in (m.rstrip("\r") for m in more))
    name = CUSTOMER_COMMANDS.get(word) or ADMIN_COMMANDS.get(word)
    if name is None:
        return ParsedCommand(UNKNOWN) if word else None
    return ParsedCommand(name, tuple(rest.split()), rest.strip(), lines, admin_only=word in ADMIN_COMMANDS)


_AMOUNT = re.compile(r"^(?:rp\.?)?([0-9]{1,3}(?:\.[0-9]{3})+|[0-9]+)(rb|ribu|k|jt|juta)?$")
_MULTIPLIER = {None: 1, "rb": 1_000, "ribu": 1_000, "k": 1_000, "jt": 1_000_000, "juta": 1_000_000}
MAX_AMOUNT = 10**12


def parse_amount(raw: str) -> int | None:
    """`50000`, `50.000`, `50rb`, `50k` (and `Rp50.000`, `1jt`) -> rupiah; anything else -> None."""
    match = _AMOUNT.match(raw.strip().lower())
    if not match:
        return None
    value = int(match.group(1).replace(".", "")) * _MULTIPLIER[match.group(2)]
    return value if 0 < value <= MAX_AMOUNT else None


def parse_count(raw: str) -> int | None:
    """A plain whole number of units (quantities, stock, days)."""
    text = raw.strip()
    return int(text) if text.isascii() and text.isdigit() and len(text) <= 7 else None
