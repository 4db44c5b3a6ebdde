"""One function per chat command: read the arguments, call the use case, render the result."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from application.chat import render
from application.chat.catalog import text
from application.chat.parser import ParsedCommand, parse_amount, parse_count
from application.replies import Reply
from application.use_cases.bundle import UseCases
from application.use_cases.catalog_admin import AddProductCommand
from application.use_cases.shopping import BuyCommand, MethodChoice
from application.use_cases.wallet import AdjustBalanceCommand, DepositCommand
from domain.errors import DomainError
from domain.money import Rupiah
from domain.order import OrderKind, OrderStatus
from domain.product import PRODUCT_FIELDS, Tier, product_code
from domain.settings import ShopSettings

# Commands that change state take the per-user lock `lock:{command}:{user}`.
WRITE_COMMANDS = frozenset({
    "buy", "deposit", "batal", "addproduk", "setharga", "addstok", "setstok", "setrole",
    "hapusproduk", "addsaldo", "kurangsaldo", "setproduk", "setting",
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

    def t(self, key: str, /, **params: object) -> str:
        return text(key, self.lang, **params)


Handler = Callable[["Commands", ParsedCommand, ChatContext], Awaitable[Reply]]
_HANDLERS: dict[str, Handler] = {}


def command(*names: str) -> Callable[[Handler], Handler]:
    def register(fn: Handler) -> Handler:
        for name in names:
            _HANDLERS[name] = fn
        return fn

    return register


def _code(cmd: ParsedCommand, index: int = 0) -> str:
    if len(cmd.args) <= index:
        raise Usage(cmd.name)
    try:
        return product_code(cmd.args[index])
    except DomainError:
        raise Usage(cmd.name) from None


def _amount(cmd: ParsedCommand, raw: str) -> int:
    value = parse_amount(raw)
    if value is None:
        raise Usage(cmd.name)
    return value


def _count(cmd: ParsedCommand, raw: str) -> int:
    value = parse_count(raw)
    if value is None:
        raise Usage(cmd.name)
    return value


PRICE_FIELDS = frozenset({"harga", "harga_silver", "harga_gold"})


def _with_lines(value: str, cmd: ParsedCommand) -> str:
    """A text value may go on over the message's next lines (delivery text, terms, welcome)."""
    return "\n".join([value, *cmd.lines]).strip()


class Commands:
    def __init__(self, use_cases: UseCases) -> None:
        self.uc = use_cases

    def knows(self, name: str) -> bool:
        return name in _HANDLERS

    async def run(self, cmd: ParsedCommand, ctx: ChatContext) -> Reply:
        return await _HANDLERS[cmd.name](self, cmd, ctx)


@command("menu")
async def _menu(c: Commands, cmd: ParsedCommand, ctx: ChatContext) -> Reply:
    welcome = ctx.shop.welcome_text or ctx.t("menu.welcome")
    parts = [ctx.t("menu.header", shop=ctx.shop.shop_name, welcome=welcome), ctx.t("menu.customer")]
    if ctx.is_admin:
        parts.append(ctx.t("menu.admin"))
    return Reply("\n\n".join(parts))


@command("produk", "detail")
async def _produk(c: Commands, cmd: ParsedCommand, ctx: ChatContext) -> Reply:
    tier = await c.uc.reads.tier(ctx.user_id)
    if not cmd.args and cmd.name == "produk":
        return render.product_list(await c.uc.reads.products(), tier, ctx.lang, ctx.shop.shop_name)
    code = _code(ParsedCommand("produk", cmd.args))
    product = await c.uc.reads.product(code)
    if product is None:
        return Reply(ctx.t("product.not_found", code=code))
    return render.product_detail(product, tier, ctx.lang)


@command("buy")
async def _buy(c: Commands, cmd: ParsedCommand, ctx: ChatContext) -> Reply:
    code, qty, method = _code(cmd), 1, MethodChoice.AUTO
    for arg in cmd.args[1:3]:
        if arg.lower() in ("saldo", "link"):
            method = MethodChoice(arg.lower())
        else:
            qty = _count(cmd, arg)
    if len(cmd.args) > 3:
        raise Usage(cmd.name)
    purchase = await c.uc.buy(BuyCommand(ctx.user_id, code, qty, method, request_id=ctx.message_id))
    order = purchase.order
    if purchase.link is not None:
        return render.payment_link("buy.link", ctx.lang, purchase.link.url, order_id=order.id, qty=order.qty,
                                   name=order.product_name, total=order.total, expires=render.when(order.expires_at or order.created_at))
    receipt = ctx.t("buy.paid", order_id=order.id, qty=order.qty, name=order.product_name, total=order.total,
                    balance=purchase.balance)
    goods = render.delivery(order, purchase.product, purchase.items, ctx.lang, ctx.shop.shop_name)
    return Reply(f"{receipt}\n\n{goods.text}")


@command("saldo")
async def _saldo(c: Commands, cmd: ParsedCommand, ctx: ChatContext) -> Reply:
    return Reply(ctx.t("balance", balance=await c.uc.reads.balance(ctx.user_id)))


@command("deposit")
async def _deposit(c: Commands, cmd: ParsedCommand, ctx: ChatContext) -> Reply:
    if len(cmd.args) != 1:
        raise Usage(cmd.name)
    topup = await c.uc.deposit(DepositCommand(ctx.user_id, _amount(cmd, cmd.args[0]), request_id=ctx.message_id))
    order = topup.order
    return render.payment_link("deposit.link", ctx.lang, topup.link.url, amount=order.total, order_id=order.id,
                               expires=render.when(order.expires_at or order.created_at))


@command("riwayat")
async def _riwayat(c: Commands, cmd: ParsedCommand, ctx: ChatContext) -> Reply:
    orders = await c.uc.history(ctx.user_id)
    if not orders:
        return Reply(ctx.t("history.empty"))
    return Reply("\n".join([ctx.t("history.header"), *(render.order_line(o, ctx.lang) for o in orders)]))


@command("status")
async def _status(c: Commands, cmd: ParsedCommand, ctx: ChatContext) -> Reply:
    if len(cmd.args) != 1:
        raise Usage(cmd.name)
    order = await c.uc.order_status(ctx.user_id, cmd.args[0])
    what = ctx.t("history.topup") if order.kind is OrderKind.TOPUP else f"{order.qty}x {order.product_name}"
    body = ctx.t("status", order_id=order.id, what=what, total=order.total, method=ctx.t(f"method.{order.method.value}"),
                 status=ctx.t(f"status.{order.status.value}"), created=render.when(order.created_at))
    if order.status is OrderStatus.PENDING and order.payment_url:
        body += "\n" + ctx.t("status.pay_link", url=order.payment_url)
    return Reply(body)


@command("batal")
async def _batal(c: Commands, cmd: ParsedCommand, ctx: ChatContext) -> Reply:
    if len(cmd.args) > 1:
        raise Usage(cmd.name)
    order = await c.uc.cancel(ctx.user_id, cmd.args[0] if cmd.args else None)
    return Reply(ctx.t("cancel.done", order_id=order.id))


@command("kirimulang")
async def _kirimulang(c: Commands, cmd: ParsedCommand, ctx: ChatContext) -> Reply:
    if len(cmd.args) > 1:
        raise Usage(cmd.name)
    delivery = await c.uc.resend(ctx.user_id, cmd.args[0] if cmd.args else None)
    return render.delivery(delivery.order, delivery.product, delivery.items, ctx.lang, ctx.shop.shop_name)


@command("addproduk")
async def _addproduk(c: Commands, cmd: ParsedCommand, ctx: ChatContext) -> Reply:
    fields = [f.strip() for f in cmd.rest.split("|")]
    if not 4 <= len(fields) <= 5:
        raise Usage(cmd.name)
    code, name, price, stock = fields[0], fields[1], _amount(cmd, fields[2]), _count(cmd, fields[3])
    added = await c.uc.add_product(AddProductCommand(code, name, price, stock, fields[4] if len(fields) == 5 else ""))
    p = added.product
    key = "admin.product_reactivated" if added.reactivated else "admin.product_added"
    return Reply(ctx.t(key, code=p.code, name=p.name, price=p.price, stock=p.stock))


@command("setharga")
async def _setharga(c: Commands, cmd: ParsedCommand, ctx: ChatContext) -> Reply:
    if len(cmd.args) != 2:
        raise Usage(cmd.name)
    product = await c.uc.set_product_field(_code(cmd), "harga", str(_amount(cmd, cmd.args[1])))
    return Reply(ctx.t("admin.price_set", code=product.code, price=product.price))


@command("addstok")
async def _addstok(c: Commands, cmd: ParsedCommand, ctx: ChatContext) -> Reply:
    code = _code(cmd)
    if cmd.lines and len(cmd.args) == 1:
        product = await c.uc.add_stock_items(code, list(cmd.lines))
        added = sum(1 for line in cmd.lines)
        return Reply(ctx.t("admin.items_added", added=added, code=product.code, stock=product.stock))
    if len(cmd.args) != 2 or cmd.lines:
        raise Usage(cmd.name)
    product = await c.uc.add_stock(code, _count(cmd, cmd.args[1]))
    return Reply(ctx.t("admin.stock_set", code=product.code, stock=product.stock))


@command("setstok")
async def _setstok(c: Commands, cmd: ParsedCommand, ctx: ChatContext) -> Reply:
    if len(cmd.args) != 2:
        raise Usage(cmd.name)
    product = await c.uc.set_stock(_code(cmd), _count(cmd, cmd.args[1]))
    return Reply(ctx.t("admin.stock_set", code=product.code, stock=product.stock))


@command("cekstok")
async def _cekstok(c: Commands, cmd: ParsedCommand, ctx: ChatContext) -> Reply:
    if len(cmd.args) != 1:
        raise Usage(cmd.name)
    product = await c.uc.check_stock(_code(cmd))
    return Reply(ctx.t("admin.stock_count", code=product.code, stock=product.stock))


@command("setrole")
async def _setrole(c: Commands, cmd: ParsedCommand, ctx: ChatContext) -> Reply:
    if len(cmd.args) < 2 or cmd.args[-1].lower() not in {t.value for t in Tier}:
        raise Usage(cmd.name)
    done = await c.uc.set_role(" ".join(cmd.args[:-1]), Tier(cmd.args[-1].lower()))
    new = ctx.t("admin.new_customer") if done.new_customer else ""
    return Reply(ctx.t("admin.role_set", number=done.user_id, tier=done.tier.value, new=new))


@command("hapusproduk")
async def _hapusproduk(c: Commands, cmd: ParsedCommand, ctx: ChatContext) -> Reply:
    if len(cmd.args) != 1:
        raise Usage(cmd.name)
    product = await c.uc.remove_product(_code(cmd))
    return Reply(ctx.t("admin.product_removed", code=product.code))


@command("addsaldo", "kurangsaldo")
async def _adjust(c: Commands, cmd: ParsedCommand, ctx: ChatContext) -> Reply:
    if len(cmd.args) < 2:
        raise Usage(cmd.name)
    credit = cmd.name == "addsaldo"
    key = f"wa:{ctx.message_id}" if ctx.message_id else None
    done = await c.uc.adjust_balance(AdjustBalanceCommand(" ".join(cmd.args[:-1]), _amount(cmd, cmd.args[-1]), credit, key))
    amount, balance = abs(done.entry.delta.value), done.entry.balance_after
    if credit:
        new = ctx.t("admin.new_customer") if done.new_customer else ""
        return Reply(ctx.t("admin.balance_added", number=done.user_id, amount=Rupiah(amount), balance=balance, new=new))
    return Reply(ctx.t("admin.balance_taken", number=done.user_id, amount=Rupiah(amount), balance=balance))


@command("setproduk")
async def _setproduk(c: Commands, cmd: ParsedCommand, ctx: ChatContext) -> Reply:
    parts = cmd.rest.split(maxsplit=2)
    if len(parts) != 3 or parts[1].lower() not in PRODUCT_FIELDS:
        raise Usage(cmd.name)
    field = parts[1].lower()
    value = str(_amount(cmd, parts[2])) if field in PRICE_FIELDS else _with_lines(parts[2], cmd)
    product = await c.uc.set_product_field(_code(cmd), field, value)
    return Reply(ctx.t("admin.field_set", field=field, code=product.code))


@command("pesanan")
async def _pesanan(c: Commands, cmd: ParsedCommand, ctx: ChatContext) -> Reply:
    statuses = {s.value: s for s in OrderStatus}
    if len(cmd.args) > 1 or (cmd.args and cmd.args[0].upper() not in statuses):
        raise Usage(cmd.name)
    orders = await c.uc.list_orders(statuses[cmd.args[0].upper()] if cmd.args else None)
    if not orders:
        return Reply(ctx.t("admin.orders_empty"))
    rows = []
    for o in orders:
        what = ctx.t("history.topup") if o.kind is OrderKind.TOPUP else f"{o.qty}x {o.product_code}"
        rows.append(ctx.t("admin.orders_row", order_id=o.id, user=o.user_id, what=what, total=o.total,
                          status=ctx.t(f"status.{o.status.value}")))
    return Reply("\n".join([ctx.t("admin.orders_header"), *rows]))


@command("rekap")
async def _rekap(c: Commands, cmd: ParsedCommand, ctx: ChatContext) -> Reply:
    days = _count(cmd, cmd.args[0]) if cmd.args else 1
    if len(cmd.args) > 1 or not 1 <= days <= 365:
        raise Usage(cmd.name)
    r = await c.uc.report(days)
    top = "\n".join(ctx.t("admin.report_top", code=code, qty=qty) for code, qty in r.top_products)
    return Reply(ctx.t("admin.report", days=r.days, since=f"{r.since:%d-%m-%Y}", orders=r.orders, revenue=r.revenue,
                       topups=r.topups, topup_total=r.topup_total, top=top or ctx.t("admin.report_none")))


@command("setting")
async def _setting(c: Commands, cmd: ParsedCommand, ctx: ChatContext) -> Reply:
    key, _, value = cmd.rest.partition(" ")
    value = _with_lines(value.strip(), cmd)
    if not key or not value:
        raise Usage(cmd.name)
    await c.uc.change_setting(key, value)
    return Reply(ctx.t("admin.setting_set", key=key.lower(), value=value))


def usage_reply(command_name: str, lang: str) -> Reply:
    return Reply(text(f"usage.{command_name}", lang, fields=", ".join(PRODUCT_FIELDS), keys=", ".join(ShopSettings.keys())))
