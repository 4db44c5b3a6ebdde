"""The customer commands: browse, buy, balance, top-up, history, status, payment link, cancel, resend."""

from __future__ import annotations

from application.chat import render
from application.chat.catalog import LANGUAGES, text
from application.chat.handlers import ChatContext, Usage, amount_arg, code_arg, command, count_arg, with_lines
from application.chat.parser import ParsedCommand
from application.replies import Reply
from application.use_cases.bundle import UseCases
from application.use_cases.shopping import BuyCommand, MethodChoice
from application.use_cases.wallet import DepositCommand
from domain.order import OrderKind, OrderStatus, PaymentChannel, PaymentMethod


@command("menu")
async def _menu(uc: UseCases, cmd: ParsedCommand, ctx: ChatContext) -> Reply:
    welcome = ctx.shop.welcome_text or ctx.t("menu.welcome")
    parts = [ctx.t("menu.header", shop=ctx.shop.shop_name, welcome=welcome), ctx.t("menu.customer")]
    if ctx.is_admin:
        parts.append(ctx.t("menu.admin"))
    return Reply("\n\n".join(parts))


@command("produk", "detail")
async def _produk(uc: UseCases, cmd: ParsedCommand, ctx: ChatContext) -> Reply:
    tier = await uc.reads.tier(ctx.user_id)
    if not cmd.args and cmd.name == "produk":
        return render.product_list(await uc.reads.products(), tier, ctx.lang, ctx.shop.shop_name)
    code = code_arg(ParsedCommand("produk", cmd.args))
    product = await uc.reads.product(code)
    if product is None:
        return Reply(ctx.t("product.not_found", code=code))
    return render.product_detail(product, tier, ctx.lang)


def buy_command(cmd: ParsedCommand, ctx: ChatContext) -> BuyCommand:
    """`.buy KODE [JUMLAH] [saldo|link|qris]` as the use case's command (Usage when malformed)."""
    code, qty, method = code_arg(cmd), 1, MethodChoice.AUTO
    for arg in cmd.args[1:3]:
        if arg.lower() in ("saldo", "link", "qris"):
            method = MethodChoice(arg.lower())
        else:
            qty = count_arg(cmd, arg)
    if len(cmd.args) > 3:
        raise Usage(cmd.name)
    return BuyCommand(ctx.user_id, code, qty, method, ctx.message_id, ctx.rerun, ctx.tier, confirmed=ctx.confirmed,
                      too_late=ctx.too_late)


@command("buy")
async def _buy(uc: UseCases, cmd: ParsedCommand, ctx: ChatContext) -> Reply:
    purchase = await uc.buy(buy_command(cmd, ctx))
    order = purchase.order
    if purchase.link is not None:
        return render.payment(order, purchase.link, ctx.lang)
    receipt = ctx.t("buy.paid", order_id=order.id, qty=order.qty, name=order.product_name, total=order.total,
                    balance=purchase.balance)
    if order.waits_for_seller:
        return Reply(f"{receipt}\n\n{render.waiting_seller(order, purchase.product, ctx.lang).text}")
    goods = render.delivery(order, purchase.product, purchase.items, ctx.lang, ctx.shop.shop_name)
    return Reply(f"{receipt}\n\n{goods.text}")


@command("saldo")
async def _saldo(uc: UseCases, cmd: ParsedCommand, ctx: ChatContext) -> Reply:
    return Reply(ctx.t("balance", balance=await uc.reads.balance(ctx.user_id)))


@command("deposit")
async def _deposit(uc: UseCases, cmd: ParsedCommand, ctx: ChatContext) -> Reply:
    if not 1 <= len(cmd.args) <= 2 or cmd.args[1:] and cmd.args[1].lower() not in ("link", "qris"):
        raise Usage(cmd.name)
    method = MethodChoice(cmd.args[1].lower()) if len(cmd.args) == 2 else MethodChoice.AUTO
    topup = await uc.deposit(DepositCommand(ctx.user_id, amount_arg(cmd, cmd.args[0]), ctx.message_id, ctx.rerun,
                                            method, too_late=ctx.too_late))
    return render.payment(topup.order, topup.link, ctx.lang)


@command("riwayat")
async def _riwayat(uc: UseCases, cmd: ParsedCommand, ctx: ChatContext) -> Reply:
    orders = await uc.history(ctx.user_id)
    if not orders:
        return Reply(ctx.t("history.empty"))
    return Reply("\n".join([ctx.t("history.header"), *(render.order_line(o, ctx.lang) for o in orders)]))


@command("status")
async def _status(uc: UseCases, cmd: ParsedCommand, ctx: ChatContext) -> Reply:
    if len(cmd.args) > 1:
        raise Usage(cmd.name)
    if cmd.args:
        order = await uc.order_status(ctx.user_id, cmd.args[0])
    else:  # no id: the customer's latest order, what they almost always mean
        latest = await uc.history(ctx.user_id)
        if not latest:
            return Reply(ctx.t("history.empty"))
        order = latest[0]
    what = ctx.t("history.topup") if order.kind is OrderKind.TOPUP else f"{order.qty}x {order.product_name}"
    qris = order.method is PaymentMethod.MIDTRANS and order.channel is PaymentChannel.QRIS
    method = ctx.t("method.qris" if qris else f"method.{order.method.value}")
    status = ctx.t("status.waiting_seller") if order.waits_for_seller else ctx.t(f"status.{order.status.value}")
    body = ctx.t("status", order_id=order.id, what=what, total=order.total, method=method,
                 status=status, created=render.when(order.created_at))
    if order.status is OrderStatus.PENDING and order.payment_url:
        body += "\n" + ctx.t("status.pay_link", url=order.payment_url)
    return Reply(body)


@command("link")
async def _link(uc: UseCases, cmd: ParsedCommand, ctx: ChatContext) -> Reply:
    """The order's payment link as plain text (for a QRIS order: the page of its code)."""
    if len(cmd.args) != 1:
        raise Usage(cmd.name)
    order = await uc.order_status(ctx.user_id, cmd.args[0])
    if order.status is not OrderStatus.PENDING:
        return Reply(ctx.t("link.not_pending", order_id=order.id, status=ctx.t(f"status.{order.status.value}")))
    if not order.payment_url:
        return Reply(ctx.t("link.missing", order_id=order.id))
    return Reply(ctx.t("link.pay", order_id=order.id, total=order.total, until=render.until(order), url=order.payment_url))


@command("batal")
async def _batal(uc: UseCases, cmd: ParsedCommand, ctx: ChatContext) -> Reply:
    if len(cmd.args) > 1:
        raise Usage(cmd.name)
    order = await uc.cancel(ctx.user_id, cmd.args[0] if cmd.args else None)
    return Reply(ctx.t("cancel.done", order_id=order.id))


@command("kirimulang")
async def _kirimulang(uc: UseCases, cmd: ParsedCommand, ctx: ChatContext) -> Reply:
    if len(cmd.args) > 1:
        raise Usage(cmd.name)
    delivery = await uc.resend(ctx.user_id, cmd.args[0] if cmd.args else None)
    return render.delivery(delivery.order, delivery.product, delivery.items, ctx.lang, ctx.shop.shop_name)


@command("bahasa")
async def _bahasa(uc: UseCases, cmd: ParsedCommand, ctx: ChatContext) -> Reply:
    if len(cmd.args) != 1 or cmd.args[0].lower() not in LANGUAGES:
        raise Usage(cmd.name)
    language = cmd.args[0].lower()
    await uc.set_language(ctx.user_id, language)
    return Reply(text("language.set", language))


@command("admin")
async def _admin(uc: UseCases, cmd: ParsedCommand, ctx: ChatContext) -> Reply:
    message = with_lines(cmd.rest, cmd)
    if not message:
        raise Usage(cmd.name)
    forwarded = await uc.contact_admin(ctx.user_id, message)
    if forwarded.sent:
        return Reply(ctx.t("support.sent"))
    return Reply(ctx.t("support.limited")) if forwarded.warn else Reply("")
