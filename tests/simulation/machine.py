"""The simulation: a Hypothesis state machine driving the real pipeline and use cases.

Customers and admins chat through `ChatPipeline.handle` (double taps included), the provider
reports statuses that notifications and expiry rounds act on, the clock moves, and faults come
and go; after every step the invariants are checked against what the stores hold.
"""

from __future__ import annotations

import asyncio
import itertools
from collections import Counter, defaultdict
from collections.abc import Awaitable, Coroutine
from datetime import timedelta
from pathlib import Path
from typing import Any, TypeVar

from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

from application.errors import ApplicationError
from application.ports import IncomingMessage
from application.replies import Reply
from application.use_cases.payment_notifications import NotificationDeferred, PaymentNotification
from domain.money import Rupiah
from domain.order import Order, OrderKind, OrderStatus, PaymentMethod
from domain.payment_rules import ProviderStatus
from tests.simulation.faults import TAG, Crash
from tests.simulation.rules import (
    CREDIT_REASONS, EFFECT_CALLS, KNOWN_BUGS, MONEY_ALERTS, NOTICE_TEXTS, PAYING_REPORTS, PROVIDER_REPORTS,
    REVERSAL_REASON, REVERSED_AFTER_DELIVERY, SYSTEM_ERROR_TEXTS, money_in,
)
from tests.simulation.stores import Snapshot, snapshot
from tests.simulation.wiring import Wired, wire
from tests.support.shop import ADMIN, ALICE, BOB

T = TypeVar("T")
CITRA = "6281400000004"
CUSTOMERS = (ALICE, BOB, CITRA)
COUNTED, ITEMS = "VC", "NF"
CODES = (COUNTED, ITEMS)
LEASE = timedelta(seconds=121)  # past the inbox lease (120 s) and the outbox's (60 s)
LINK_ORDER_CALLS = frozenset({"orders.add", "products.take", "products.take_items", "customers.save"})
TAPPED = (".buy VC", ".buy NF link", ".buy VC 2 saldo", ".deposit 20rb", ".batal", ".saldo")


class Violation(AssertionError):
    def __init__(self, check: str, detail: str) -> None:
        known = KNOWN_BUGS.get(check)
        label = f"[{check}]" + (f" known bug {known.id}: {known.summary}" if known else "")
        super().__init__(f"{label}\n{detail}")
        self.check = check


# Violations of known bugs the run was told to tolerate, per check (reported by the test).
TOLERATED: Counter[str] = Counter()


async def together(*coroutines: Coroutine[Any, Any, Any]) -> None:
    """Run concurrently; a Crash in one is the whole process dying: the others stop too."""
    tasks = [asyncio.ensure_future(c) for c in coroutines]
    await asyncio.wait(tasks)
    crashed = any(not t.cancelled() and isinstance(t.exception(), Crash) for t in tasks)
    for task in tasks:
        error = task.exception()
        if error is not None and not isinstance(error, Crash):
            raise error
    if crashed:
        raise Crash("a concurrent message crashed the process")


def _credits(order: Order, snap: Snapshot) -> list[Any]:
    """The saldo credits the order's money became."""
    return [e for e in snap.ledgers[order.user_id] if e.reference == order.id and e.reason in CREDIT_REASONS]


def _delivered(order: Order, snap: Snapshot) -> bool:
    """A purchase whose goods went out (its stock is sold): PAID, or REFUNDED after delivery
    (a refunded order whose money had gone to saldo instead released its stock)."""
    if order.kind is not OrderKind.PURCHASE:
        return False
    return order.status is OrderStatus.PAID or (order.status is OrderStatus.REFUNDED and not _credits(order, snap))


class ShopSimulation(RuleBasedStateMachine):
    wiring = "memory"
    sqlite_template: Path | None = None
    workdir: Path | None = None
    tolerate: frozenset[str] = frozenset()

    def __init__(self) -> None:
        super().__init__()
        self.runner = asyncio.Runner()
        self.w: Wired = wire(self.wiring, self.workdir, self.sqlite_template)
        self.ids = itertools.count(1)
        self.items = itertools.count(1)
        self.events = itertools.count(1)
        self.messages: list[IncomingMessage] = []
        self.stock_intents: dict[str, tuple[str, int]] = {}  # .addstok message -> (code, units)
        self.direct: defaultdict[str, list[Reply]] = defaultdict(list)  # replies sent bypassing the outbox
        self.obliged: set[str] = set()  # orders whose received money must be accounted by now
        self.strays: dict[str, int] = {}  # payments for order ids the shop never made
        self.last_event: dict[str, str] = {}
        self.settled = True  # no fault since the last full recovery
        self.seen: set[tuple[str, str]] = set()  # tolerated violations already counted
        self._instrument()

    # -- plumbing ------------------------------------------------------------------------------

    def _instrument(self) -> None:
        """Tag every unit of work with the inbox message it runs for; see direct sends."""
        pipeline, outbox = self.w.shop.pipeline, self.w.shop.app.outbox()
        accept, process, send_once = pipeline.accept, pipeline.process, outbox.send_once

        async def tagged_accept(message: IncomingMessage) -> bool:
            token = TAG.set(message.message_id)
            try:
                return await accept(message)
            finally:
                TAG.reset(token)

        async def tagged_process(message: IncomingMessage, *, rerun: bool = False) -> list[Reply]:
            token = TAG.set(message.message_id)
            try:
                return await process(message, rerun=rerun)
            finally:
                TAG.reset(token)

        async def seen_send_once(to: str, reply: Reply) -> None:
            self.direct[TAG.get()].append(reply)
            await send_once(to, reply)

        setattr(pipeline, "accept", tagged_accept)
        setattr(pipeline, "process", tagged_process)
        setattr(outbox, "send_once", seen_send_once)

    def _run(self, work: Awaitable[T]) -> T | None:
        """One step's work; a crash abandons the rest of it (the step goes on)."""
        fired = self.w.plan.fired

        async def step() -> T:
            return await work

        try:
            return self.runner.run(step())
        except Crash:
            return None
        finally:
            if self.w.plan.fired != fired:
                self.settled = False

    def _job(self, tag: str, work: Awaitable[T]) -> T | None:
        """A periodic job (expiry, recovery, outbox): a failure is logged and it runs again later,
        as in `entrypoints/workers.py`."""
        try:
            return self._run(self._tagged(tag, work))
        except ApplicationError:
            return None

    def _message(self, who: str, text: str) -> IncomingMessage:
        message = IncomingMessage(f"wamid.sim-{next(self.ids)}", who, text)
        self.messages.append(message)
        return message

    def _say(self, who: str, text: str) -> IncomingMessage:
        message = self._message(who, text)
        self._run(self.w.shop.pipeline.handle(message))
        return message

    def _link_orders(self) -> list[str]:
        return self.w.gateway.created

    def _pick(self, pick: int) -> str:
        """Mostly one of the three newest link orders (0: the newest), now and then any."""
        orders = self._link_orders()
        if pick % 4:
            return orders[-1 - pick % min(len(orders), 3)]
        return orders[pick // 4 % len(orders)]

    async def _tagged(self, tag: str, work: Awaitable[T]) -> T:
        token = TAG.set(tag)
        try:
            return await work
        finally:
            TAG.reset(token)

    # -- setup -----------------------------------------------------------------------------------

    @initialize()
    def open_shop(self) -> None:
        self._say(ADMIN, ".setting buy_rate_limit_per_minute 6")
        self._say(ADMIN, ".addproduk VC|Voucher 10rb|10000|5")
        self._say(ADMIN, ".addproduk NF|Netflix 1 Bulan|35000|0")
        self._say(ADMIN, "\n".join([".addstok NF", *(f"akun-{next(self.items)}@mail.test|pw" for _ in range(3))]))
        for who in CUSTOMERS[:2]:
            self._say(ADMIN, f".addsaldo {who} 50rb")

    def teardown(self) -> None:
        try:
            self.runner.run(self.w.close())
        finally:
            self.runner.close()

    # -- customers -------------------------------------------------------------------------------

    @rule(who=st.sampled_from(CUSTOMERS), code=st.sampled_from([*CODES, "XX"]), qty=st.integers(1, 3),
          method=st.sampled_from(["", "saldo", "link"]))
    def buy(self, who: str, code: str, qty: int, method: str) -> None:
        self._say(who, f".buy {code} {qty} {method}".strip())

    @rule(who=st.sampled_from(CUSTOMERS), amount=st.sampled_from(["10rb", "20000", "75.000", "5000"]))
    def deposit(self, who: str, amount: str) -> None:
        self._say(who, f".deposit {amount}")

    @rule(who=st.sampled_from(CUSTOMERS))
    def cancel(self, who: str) -> None:
        self._say(who, ".batal")

    @rule(who=st.sampled_from(CUSTOMERS), text=st.sampled_from([".saldo", ".produk", ".riwayat", "halo", ".ya", "ya"]))
    def read(self, who: str, text: str) -> None:
        self._say(who, text)

    @rule(who=st.sampled_from(CUSTOMERS), text=st.sampled_from(TAPPED), at_once=st.booleans())
    def double_tap_same_id(self, who: str, text: str, at_once: bool) -> None:
        """WhatsApp delivers the same message twice."""
        message, handle = self._message(who, text), self.w.shop.pipeline.handle
        if at_once:
            self._run(together(handle(message), handle(message)))
        else:
            self._run(handle(message))
            self._run(handle(message))

    @rule(who=st.sampled_from(CUSTOMERS), text=st.sampled_from(TAPPED))
    def double_tap_two_messages(self, who: str, text: str) -> None:
        """The customer taps send twice: two messages, the same command."""
        handle = self.w.shop.pipeline.handle
        self._run(together(handle(self._message(who, text)), handle(self._message(who, text))))

    @precondition(lambda self: bool(self.messages))
    @rule(pick=st.integers(0, 10_000))
    def redelivery_later(self, pick: int) -> None:
        self._run(self.w.shop.pipeline.handle(self.messages[pick % len(self.messages)]))

    # -- admins ----------------------------------------------------------------------------------

    @rule(units=st.integers(1, 4))
    def add_counted_stock(self, units: int) -> None:
        message = self._message(ADMIN, f".addstok {COUNTED} {units}")
        self.stock_intents[message.message_id] = (COUNTED, units)
        self._run(self.w.shop.pipeline.handle(message))

    @rule(lines=st.integers(1, 3), repeat_first=st.booleans())
    def add_stock_items(self, lines: int, repeat_first: bool) -> None:
        contents = [f"akun-{next(self.items)}@mail.test|pw" for _ in range(lines)]
        if repeat_first:
            contents[0] = "akun-1@mail.test|pw"  # the shop's first item, sold or not
        self._say(ADMIN, "\n".join([f".addstok {ITEMS}", *contents]))

    @rule(who=st.sampled_from(CUSTOMERS), amount=st.sampled_from(["5rb", "20rb", "100rb"]), credit=st.booleans())
    def adjust_balance(self, who: str, amount: str, credit: bool) -> None:
        self._say(ADMIN, f".{'addsaldo' if credit else 'kurangsaldo'} {who} {amount}")

    # -- the payment provider --------------------------------------------------------------------

    @precondition(lambda self: bool(self._link_orders()))
    @rule(pick=st.integers(0, 10_000), report=st.sampled_from(PROVIDER_REPORTS),
          amount=st.sampled_from(["right", "right", "less", "more"]), reversed_=st.sampled_from(["none", "part", "all"]))
    def provider_reports(self, pick: int, report: ProviderStatus, amount: str, reversed_: str) -> None:
        """The provider's status API answers this from now on (a refund or chargeback with how
        much was taken back in all)."""
        order_id = self._pick(pick)
        total = self.w.gateway.amount_of(order_id)
        assert total is not None
        off = {"right": 0, "less": -1_000, "more": 1_000}[amount]
        taken = {"none": None, "part": Rupiah(total.value // 2), "all": total}[reversed_]
        self.w.gateway.report(order_id, report, Rupiah(total.value + off), taken)

    @precondition(lambda self: bool(self._link_orders()))
    @rule(pick=st.integers(0, 10_000), report=st.sampled_from(PAYING_REPORTS), right=st.booleans())
    def customer_pays(self, pick: int, report: ProviderStatus, right: bool) -> None:
        """The common case: the payment changes at the provider and its notification follows."""
        self.provider_reports(pick, report, "right" if right else "less", "none")
        self.notification(pick, False)

    @precondition(lambda self: bool(self._link_orders()))
    @rule(pick=st.integers(0, 10_000), repeat=st.booleans())
    def notification(self, pick: int, repeat: bool) -> None:
        """Midtrans posts a notification for the order (a repeat: the same event again)."""
        order_id = self._pick(pick)
        key = self.last_event.get(order_id) if repeat else None
        key = key or f"{order_id}:event-{next(self.events)}"
        self.last_event[order_id] = key
        handle = self.w.shop.app.handle_notification()
        money = self._money_reported(order_id)
        try:
            done = self._run(self._tagged(f"notify:{order_id}", handle(PaymentNotification(order_id, key, "{}"))))
        except NotificationDeferred:
            return  # answered 503: Midtrans sends it again later
        if done is not None and money:
            self.obliged.add(order_id)

    def _money_reported(self, order_id: str) -> bool:
        found = self.w.gateway.reports.get(order_id)
        if found is None or self.w.gateway.status_down:
            return False
        return money_in(found[0])

    @precondition(lambda self: bool(self._link_orders()))
    @rule(pick=st.integers(0, 10_000), report=st.sampled_from(PAYING_REPORTS + (ProviderStatus.REFUND,)),
          who_cancels=st.booleans())
    def race(self, pick: int, report: ProviderStatus, who_cancels: bool) -> None:
        """A notification, an expiry round and the customer's '.batal' (or '.buy') at once."""
        order_id = self._pick(pick)
        self.provider_reports(pick, report, "right", "all")
        owner = self._owner(order_id)
        handle = self.w.shop.app.handle_notification()
        message = self._message(owner, ".batal" if who_cancels else ".buy VC 1 link")

        async def notify() -> None:
            try:
                await self._tagged(f"notify:{order_id}", handle(PaymentNotification(order_id, f"race-{next(self.events)}", "{}")))
            except NotificationDeferred:
                pass

        async def expire() -> None:
            try:
                await self._tagged("expire", self.w.shop.uc.expire_stale())
            except ApplicationError:
                pass

        self._run(together(notify(), expire(), self.w.shop.pipeline.handle(message)))

    def _owner(self, order_id: str) -> str:
        async def read() -> str:
            async with self.w.clean() as uow:
                order = await uow.orders.get(order_id)
            return order.user_id if order is not None else ALICE

        return self.runner.run(read())

    @rule(amount=st.sampled_from([10_000, 35_000]))
    def stray_payment(self, amount: int) -> None:
        """The provider received money for an order id the shop never made."""
        order_id = f"INV-STRAY-{next(self.events)}"
        self.w.gateway.report(order_id, ProviderStatus.SETTLEMENT, Rupiah(amount))
        self.strays[order_id] = amount
        handle = self.w.shop.app.handle_notification()
        try:
            done = self._run(self._tagged(f"notify:{order_id}", handle(PaymentNotification(order_id, order_id, "{}"))))
        except NotificationDeferred:
            return
        if done is not None:
            self.obliged.add(order_id)

    @rule(minutes=st.sampled_from([1, 5, 16, 25, 90]))
    def time_passes(self, minutes: int) -> None:
        self.w.clock.advance(minutes=minutes)

    @rule()
    def expiry_round(self) -> None:
        async def stale() -> list[str]:
            cutoff = self.w.clock.now() - timedelta(minutes=5)
            async with self.w.clean() as uow:
                return [o.id for o in await uow.orders.pending_expiring_before(cutoff, 100)]

        due = self.runner.run(stale())
        money = [o for o in due if self._money_reported(o)]
        fired = self.w.plan.fired
        done = self._job("expire", self.w.shop.uc.expire_stale())
        if done is not None and self.w.plan.fired == fired:
            self.obliged.update(money)

    # -- faults and recovery ---------------------------------------------------------------------

    @rule(after=st.integers(0, 12))
    def storage_fails(self, after: int) -> None:
        self.w.plan.storage_countdown = after

    @rule(units_of_work=st.integers(1, 10))
    def storage_outage(self, units_of_work: int) -> None:
        self.w.plan.outage = units_of_work

    @rule(commits=st.integers(0, 3))
    def crash_after(self, commits: int) -> None:
        self.w.plan.crash_countdown = commits

    @rule(down=st.booleans())
    def status_api(self, down: bool) -> None:
        self.w.gateway.status_down = down

    @rule()
    def link_creation_fails(self) -> None:
        self.w.gateway.fail_next_create = True

    @rule()
    def recovery_while_faulty(self) -> None:
        """A delivery job runs while the faults are still on."""
        self.w.clock.advance(seconds=LEASE.total_seconds())
        self._job("recover", self.w.shop.pipeline.recover())
        self._job("drain", self.w.shop.app.outbox().drain())

    @rule()
    def faults_stop_and_recovery_runs(self) -> None:
        self.w.plan.disarm()
        self.w.gateway.status_down = False
        for _ in range(20):
            self.w.clock.advance(seconds=LEASE.total_seconds())
            recovered = self._job("recover", self.w.shop.pipeline.recover())
            drained = self._job("drain", self.w.shop.app.outbox().drain())
            if not recovered and not drained:
                break
        self.settled = True

    # -- invariants ------------------------------------------------------------------------------

    def _violation(self, check: str, detail: str) -> None:
        if check in self.tolerate:
            if (check, detail) not in self.seen:
                self.seen.add((check, detail))
                TOLERATED[check] += 1
            return
        raise Violation(check, detail)

    @invariant()
    def the_books_balance(self) -> None:
        snap = self.runner.run(snapshot(self.w.clean, self.w.view, [ADMIN, *CUSTOMERS], list(CODES)))
        self._check_wallets(snap)
        self._check_stock(snap)
        self._check_money(snap)
        if self.settled:
            self._check_answers(snap)

    def _check_wallets(self, snap: Snapshot) -> None:
        """1. Each balance is the sum of its ledger and never negative."""
        for user, balance in snap.balances.items():
            if balance != snap.ledger_sums[user] or balance.value < 0:
                self._violation("wallet.ledger", f"{user}: balance {balance}, ledger sum {snap.ledger_sums[user]}")
        if snap.off_ledger:
            self._violation("wallet.ledger", f"off ledger: {snap.off_ledger}")
        for order in snap.orders:
            if order.method is PaymentMethod.SALDO:
                debits = [e for e in snap.ledgers[order.user_id] if e.reason == "purchase" and e.reference == order.id]
                if len(debits) != 1 or debits[0].delta.value != -order.total.value:
                    self._violation("wallet.purchase_debit", f"{order.id} ({order.total}): debits {debits}")

    def _stocked_in(self) -> Counter[str]:
        """What the admins put in, by the commits that took effect."""
        stocked: Counter[str] = Counter()
        for entry in self.w.journal.entries:
            for call in entry.calls:
                if call.name == "products.add":
                    stocked[call.args[0].code] += call.args[0].stock
                elif call.name == "products.add_items":
                    stocked[call.args[0]] += len(call.args[1])
            intent = self.stock_intents.get(entry.tag)
            if intent is not None and entry.has("products.save"):
                stocked[intent[0]] += intent[1]
        return stocked

    def _check_stock(self, snap: Snapshot) -> None:
        """2. On hand + reserved + sold = stocked in; no item in two orders; an admin's stock
        message adds its stock once, however often it is processed."""
        stocked = self._stocked_in()
        for message_id, (code, units) in self.stock_intents.items():
            applied = sum(entry.has("products.save") for entry in self.w.journal.tagged(message_id))
            if applied > 1:
                self._violation("stock.added_twice", f"{message_id} '.addstok {code} {units}' applied {applied} times")
        for code, product in snap.products.items():
            purchases = [o for o in snap.orders if o.kind is OrderKind.PURCHASE and o.product_code == code]
            reserved = sum(o.qty for o in purchases if o.status is OrderStatus.PENDING)
            sold = sum(o.qty for o in purchases if _delivered(o, snap))
            if product.stock + reserved + sold != stocked[code]:
                self._violation("stock.conservation", f"{code}: on hand {product.stock} + reserved {reserved} + sold "
                                f"{sold} != stocked in {stocked[code]}")
            if not product.uses_items:
                continue
            if snap.free_items.get(code, 0) != product.stock:
                self._violation("stock.items", f"{code}: stock {product.stock}, free items {snap.free_items.get(code, 0)}")
            for order in purchases:
                held = len(snap.items.get(order.id, []))
                if held != (order.qty if order.status is OrderStatus.PENDING or _delivered(order, snap) else 0):
                    self._violation("stock.items", f"{order.id} ({order.status.value}, qty {order.qty}) holds {held} items")
        handed = Counter(item for items in snap.items.values() for item in items)
        twice = [item for item, n in handed.items() if n > 1]
        if twice:
            self._violation("stock.item_in_two_orders", f"items in two orders: {twice}")

    def _check_money(self, snap: Snapshot) -> None:
        """3. Money the provider received for an order is accounted exactly once (goods, saldo,
        or an alert holding it for an admin); money it took back again is taken from saldo
        (up to the balance, the rest a recorded shortfall) or told to admins."""
        for order in snap.orders:
            if order.method is not PaymentMethod.MIDTRANS:
                continue
            credits = _credits(order, snap)
            ways = [f"credit:{e.reason}" for e in credits]
            if _delivered(order, snap):
                ways.append(f"delivered ({order.status.value})")
            ways += [f"alert:{a.kind}" for a in snap.alerts if a.subject == order.id and a.kind in MONEY_ALERTS and a.amount]
            found = self.w.gateway.reports.get(order.id)
            report = f"provider: {found[0].value} {found[1]} reversed {found[2]}" if found else "provider: nothing"
            where = f"{order.id} ({order.kind.value} {order.status.value}, {order.total})"
            topups = sum(e.reason == "topup" for e in credits)
            if order.kind is OrderKind.TOPUP and (order.status is OrderStatus.PAID and topups != 1
                                                  or topups and order.status not in (OrderStatus.PAID, OrderStatus.REFUNDED)):
                self._violation("money.topup", f"{where} with {topups} top-up credits")
            if len(ways) > 1:
                self._violation("money.twice", f"{where} accounted {ways}; {report}")
            elif order.id in self.obliged and not ways and found and money_in(found[0]):
                self._violation("money.lost", f"{where} paid but not accounted; {report}")
            self._check_reversal(order, snap, credits, where, report)
        for order_id, amount in self.strays.items():
            held = [a for a in snap.alerts if a.subject == order_id and a.kind in MONEY_ALERTS and a.amount]
            if len(held) > 1 or (order_id in self.obliged and [a.amount.value for a in held if a.amount] != [amount]):
                self._violation("money.stray", f"{order_id}: {amount} received for no order, alerts holding it: {held}")

    def _check_reversal(self, order: Order, snap: Snapshot, credits: list[Any], where: str, report: str) -> None:
        if order.reversed_amount.value > order.money_in.value:
            self._violation("money.reversal", f"{where}: reversed {order.reversed_amount} of {order.money_in} kept")
        if order.reversed_amount.value == 0:
            return
        if credits:
            taken = -sum(e.delta.value for e in snap.ledgers[order.user_id]
                         if e.reason == REVERSAL_REASON and (e.reference or "").startswith(f"{order.id}:"))
            if taken + order.shortfall.value != order.reversed_amount.value:
                self._violation("money.reversal", f"{where}: reversed {order.reversed_amount}, taken back from saldo "
                                f"{taken} + shortfall {order.shortfall}; {report}")
        elif not any(a.kind == REVERSED_AFTER_DELIVERY and a.subject.startswith(f"{order.id}:") for a in snap.alerts):
            self._violation("money.reversal", f"{where}: reversed {order.reversed_amount} after delivery, admins "
                            f"not told; {report}")

    def _check_answers(self, snap: Snapshot) -> None:
        """4. After recovery every accepted message is answered once, and never with 'failed,
        try again' for an effect that committed."""
        journal = self.w.journal
        accepted = [c.args[0].message_id for name in ("inbox.record", "inbox.accept") for _, c in journal.calls(name)]
        accepted += [m.message_id for _, c in journal.calls("inbox.accept_all") for m, _, _ in c.args[0]]
        queued: defaultdict[str, list[Reply]] = defaultdict(list)
        for _, call in journal.calls("outbox.add"):
            if call.kwargs.get("finishes"):
                queued[call.kwargs["finishes"]].append(call.args[1])
        for _, call in journal.calls("outbox.add_all"):  # replies queued together (group commit)
            for outgoing in call.args[0]:
                if outgoing.finishes:
                    queued[outgoing.finishes].append(outgoing.reply)
        silently = {call.args[0] for _, call in journal.calls("inbox.finish")}
        for message_id in accepted:
            if message_id in snap.dead:
                continue
            if message_id in snap.unfinished:
                self._violation("answer.unfinished", f"{message_id} is still unfinished after recovery")
            direct = [r for r in self.direct.get(message_id, []) if r.text not in NOTICE_TEXTS]
            answers = queued[message_id] + direct
            if len(answers) > 1 or (not answers and message_id not in silently):
                self._violation("answer.count", f"{message_id} answered {len(answers)} times: "
                                f"{[a.text[:60] for a in answers]}")
            failed = [a for a in answers if a.text in SYSTEM_ERROR_TEXTS]
            effects = {c.name for e in journal.tagged(message_id) for c in e.calls if c.name in EFFECT_CALLS}
            if failed and effects:
                text = next(m.text for m in self.messages if m.message_id == message_id)
                # An order committed whose link was never saved nor the order given up (SIM-2).
                check = ("answer.failed_after_order_without_link" if "orders.add" in effects and "orders.save" not in effects
                         and effects <= LINK_ORDER_CALLS else "answer.failed_but_committed")
                self._violation(check, f"{message_id} {text!r}: told 'error.system' "
                                f"({'directly' if direct else 'queued'}) though {sorted(effects)} committed")


def machine_for(wiring: str, template: Path | None, workdir: Path | None,
                tolerate: frozenset[str]) -> type[ShopSimulation]:
    """A state machine class on the given wiring."""
    attributes = {"wiring": wiring, "sqlite_template": template, "workdir": workdir, "tolerate": tolerate}
    cls = type(f"ShopSimulation_{wiring}", (ShopSimulation,), attributes)
    return cls
