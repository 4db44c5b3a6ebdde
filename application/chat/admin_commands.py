"""The admin commands (only for the numbers in TOKOWA_ADMIN_NUMBERS)."""

from __future__ import annotations

from application.chat import render
from application.chat.catalog import text
from application.chat.handlers import (
    PRICE_FIELDS, ChatContext, Usage, amount_arg, code_arg, command, count_arg, with_lines,
)
from application.chat.parser import ParsedCommand, parse_count
from application.replies import Reply
from application.use_cases.bundle import UseCases
from application.use_cases.catalog_admin import AddProductCommand
from application.use_cases.wallet import AdjustBalanceCommand
from domain.money import Rupiah
from domain.order import OrderKind, OrderStatus
from domain.errors import InvalidSetting
from domain.product import PRODUCT_FIELDS, Tier
from domain.settings import MAX_TEXT, ShopSettings, setting_rule


@command("addproduk")
async def _addproduk(uc: UseCases, cmd: ParsedCommand, ctx: ChatContext) -> Reply:
    fields = [f.strip() for f in cmd.rest.split("|")]
    if not 4 <= len(fields) <= 5:
        raise Usage(cmd.name)
    code, name, price, stock = fields[0], fields[1], amount_arg(cmd, fields[2]), count_arg(cmd, fields[3])
    added = await uc.add_product(AddProductCommand(code, name, price, stock, fields[4] if len(fields) == 5 else "",
                                                   ctx.request_id))
    p = added.product
    key = "admin.product_reactivated" if added.reactivated else "admin.product_added"
    return Reply(ctx.t(key, code=p.code, name=p.name, price=p.price, stock=p.stock))


@command("setharga")
async def _setharga(uc: UseCases, cmd: ParsedCommand, ctx: ChatContext) -> Reply:
    if len(cmd.args) != 2:
        raise Usage(cmd.name)
    product = await uc.set_product_field(code_arg(cmd), "harga", str(amount_arg(cmd, cmd.args[1])),
                                         request_id=ctx.request_id)
    return Reply(ctx.t("admin.price_set", code=product.code, price=product.price))


@command("addstok")
async def _addstok(uc: UseCases, cmd: ParsedCommand, ctx: ChatContext) -> Reply:
    code = code_arg(cmd)
    if cmd.lines and len(cmd.args) == 1:
        product = await uc.add_stock_items(code, list(cmd.lines), request_id=ctx.request_id)
        added = sum(1 for line in cmd.lines)
        return Reply(ctx.t("admin.items_added", added=added, code=product.code, stock=product.stock))
    if len(cmd.args) != 2 or cmd.lines:
        raise Usage(cmd.name)
    product = await uc.add_stock(code, count_arg(cmd, cmd.args[1]), request_id=ctx.request_id)
    return Reply(ctx.t("admin.stock_set", code=product.code, stock=product.stock))


@command("setstok")
async def _setstok(uc: UseCases, cmd: ParsedCommand, ctx: ChatContext) -> Reply:
    if len(cmd.args) != 2:
        raise Usage(cmd.name)
    product = await uc.set_stock(code_arg(cmd), count_arg(cmd, cmd.args[1]), request_id=ctx.request_id)
    return Reply(ctx.t("admin.stock_set", code=product.code, stock=product.stock))


@command("cekstok")
async def _cekstok(uc: UseCases, cmd: ParsedCommand, ctx: ChatContext) -> Reply:
    if len(cmd.args) != 1:
        raise Usage(cmd.name)
    product = await uc.check_stock(code_arg(cmd))
    return Reply(ctx.t("admin.stock_count", code=product.code, stock=product.stock))


@command("setrole")
async def _setrole(uc: UseCases, cmd: ParsedCommand, ctx: ChatContext) -> Reply:
    if len(cmd.args) < 2 or cmd.args[-1].lower() not in {t.value for t in Tier}:
        raise Usage(cmd.name)
    done = await uc.set_role(" ".join(cmd.args[:-1]), Tier(cmd.args[-1].lower()), request_id=ctx.request_id)
    new = ctx.t("admin.new_customer") if done.new_customer else ""
    return Reply(ctx.t("admin.role_set", number=done.user_id, tier=done.tier.value, new=new))


@command("hapusproduk")
async def _hapusproduk(uc: UseCases, cmd: ParsedCommand, ctx: ChatContext) -> Reply:
    if len(cmd.args) != 1:
        raise Usage(cmd.name)
    product = await uc.remove_product(code_arg(cmd), request_id=ctx.request_id)
    return Reply(ctx.t("admin.product_removed", code=product.code))


@command("addsaldo", "kurangsaldo")
async def _adjust(uc: UseCases, cmd: ParsedCommand, ctx: ChatContext) -> Reply:
    if len(cmd.args) < 2:
        raise Usage(cmd.name)
    credit = cmd.name == "addsaldo"
    key = f"wa:{ctx.message_id}" if ctx.message_id else None
    done = await uc.adjust_balance(AdjustBalanceCommand(" ".join(cmd.args[:-1]), amount_arg(cmd, cmd.args[-1]), credit, key,
                                                        too_late=ctx.too_late))
    amount, balance = abs(done.entry.delta.value), done.entry.balance_after
    if credit:
        new = ctx.t("admin.new_customer") if done.new_customer else ""
        return Reply(ctx.t("admin.balance_added", number=done.user_id, amount=Rupiah(amount), balance=balance, new=new))
    return Reply(ctx.t("admin.balance_taken", number=done.user_id, amount=Rupiah(amount), balance=balance))


@command("setproduk")
async def _setproduk(uc: UseCases, cmd: ParsedCommand, ctx: ChatContext) -> Reply:
    parts = cmd.rest.split(maxsplit=2)
    if len(parts) != 3 or parts[1].lower() not in PRODUCT_FIELDS:
        raise Usage(cmd.name)
    field = parts[1].lower()
    value = str(amount_arg(cmd, parts[2])) if field in PRICE_FIELDS else with_lines(parts[2], cmd)
    product = await uc.set_product_field(code_arg(cmd), field, value, request_id=ctx.request_id)
    return Reply(ctx.t("admin.field_set", field=field, code=product.code))


@command("pesanan")
async def _pesanan(uc: UseCases, cmd: ParsedCommand, ctx: ChatContext) -> Reply:
    if cmd.args and cmd.args[0].lower() in WAITING_WORDS and len(cmd.args) == 1:
        return await _waiting(uc, ctx)
    wanted = " ".join(cmd.args).lower()
    if wanted and wanted not in STATUS_WORDS:
        raise Usage(cmd.name)
    orders = await uc.list_orders(STATUS_WORDS[wanted] if wanted else None)
    if not orders:
        return Reply(ctx.t("admin.orders_empty"))
    rows = []
    for o in orders:
        what = ctx.t("history.topup") if o.kind is OrderKind.TOPUP else f"{o.qty}x {o.product_code}"
        status = ctx.t("status.waiting_seller") if o.waits_for_seller else ctx.t(f"status.{o.status.value}")
        rows.append(ctx.t("admin.orders_row", when=render.short_when(o.created_at), order_id=o.id, user=o.user_id,
                          what=what, total=o.total, status=status))
    return Reply("\n".join([ctx.t("admin.orders_header"), *rows]))


WAITING_WORDS = frozenset({"perlu", "manual"})


def _status_words() -> dict[str, OrderStatus]:
    """A status by its name (PAID) or by the words the bot shows for it, in either language:
    the whole text (menunggu pembayaran) or its first word (menunggu), and batal for dibatalkan."""
    words: dict[str, OrderStatus] = {"batal": OrderStatus.CANCELLED, "cancel": OrderStatus.CANCELLED}
    for status in OrderStatus:
        words[status.value.lower()] = status
        for lang in ("id", "en"):
            shown = text(f"status.{status.value}", lang).lower()
            words.setdefault(shown, status)
            words.setdefault(shown.split()[0], status)
    return words


STATUS_WORDS = _status_words()


async def _waiting(uc: UseCases, ctx: ChatContext) -> Reply:
    orders = await uc.waiting_orders()
    if not orders:
        return Reply(ctx.t("admin.waiting_empty"))
    rows = [ctx.t("admin.waiting_row", order_id=o.id, user=o.user_id, qty=o.qty, code=o.product_code,
                  paid=render.when(o.paid_at or o.created_at)) for o in orders]
    return Reply("\n".join([ctx.t("admin.waiting_header"), *rows]))


@command("kirim")
async def _kirim(uc: UseCases, cmd: ParsedCommand, ctx: ChatContext) -> Reply:
    order_id, _, first_line = cmd.rest.partition(" ")
    note = with_lines(first_line, cmd)
    if not order_id or not note:
        raise Usage(cmd.name)
    order = await uc.deliver_by_hand(order_id, note)
    return Reply(ctx.t("admin.delivered", order_id=order.id, user=order.user_id))


@command("balas")
async def _balas(uc: UseCases, cmd: ParsedCommand, ctx: ChatContext) -> Reply:
    number, _, first_line = cmd.rest.partition(" ")
    message = with_lines(first_line, cmd)
    if not number or not message:
        raise Usage(cmd.name)
    user_id = await uc.reply_to_customer(number, message)
    return Reply(ctx.t("admin.reply_sent", number=user_id))


@command("ok")
async def _ok(uc: UseCases, cmd: ParsedCommand, ctx: ChatContext) -> Reply:
    if len(cmd.args) != 1 or parse_count(cmd.args[0].lstrip("#")) is None:
        raise Usage(cmd.name)
    alert_id = int(cmd.args[0].lstrip("#"))
    if not await uc.alerts.acknowledge(alert_id):
        return Reply(ctx.t("admin.alert_not_open", alert_id=alert_id))
    return Reply(ctx.t("admin.alert_acknowledged", alert_id=alert_id))


@command("rekap")
async def _rekap(uc: UseCases, cmd: ParsedCommand, ctx: ChatContext) -> Reply:
    days = count_arg(cmd, cmd.args[0]) if cmd.args else 1
    if len(cmd.args) > 1 or not 1 <= days <= 365:
        raise Usage(cmd.name)
    r = await uc.report(days)
    top = "\n".join(ctx.t("admin.report_top", code=code, qty=qty) for code, qty in r.top_products)
    return Reply(ctx.t("admin.report", days=r.days, since=f"{r.since:%d-%m-%Y}", orders=r.orders, revenue=r.revenue,
                       topups=r.topups, topup_total=r.topup_total, top=top or ctx.t("admin.report_none"),
                       refunds=r.refunds, refund_total=r.refund_total, chargebacks=r.chargebacks,
                       chargeback_total=r.chargeback_total, net=r.net))


@command("setting")
async def _setting(uc: UseCases, cmd: ParsedCommand, ctx: ChatContext) -> Reply:
    key, _, value = cmd.rest.partition(" ")
    value = with_lines(value.strip(), cmd)
    if not key:
        return Reply(_settings_list(ctx, ShopSettings.keys()))
    if not value:
        if key.lower() not in ShopSettings.keys():
            raise InvalidSetting(key=key.lower(), value="", reason="key")
        return Reply(_settings_list(ctx, (key.lower(),)))
    await uc.change_setting(key, value, request_id=ctx.request_id)
    return Reply(ctx.t("admin.setting_set", key=render.mono(key.lower()), value=value))


def _settings_list(ctx: ChatContext, keys: tuple[str, ...]) -> str:
    """Each key (as code, so its underscores stay underscores), its value now and what it accepts."""
    current = ctx.shop.as_strings()
    rows = [ctx.t("admin.settings_header")]
    for key in keys:
        rule = setting_rule(key)
        if rule is None:
            allowed = ctx.t("admin.setting_text", high=MAX_TEXT)
        elif isinstance(rule[0], int):
            allowed = ctx.t("admin.setting_range", low=rule[0], high=rule[1])
        else:
            allowed = "/".join(map(str, rule))
        value = render.mono(current[key], limit=40) if current[key] else ctx.t("admin.setting_empty")
        rows.append(ctx.t("admin.settings_row", key=render.mono(key), value=value, allowed=allowed))
    rows.append(ctx.t("admin.settings_footer"))
    return "\n".join(rows)
