"""A whole shop on the in-memory wiring, driven through the chat pipeline like a customer would."""

from __future__ import annotations

import itertools
from typing import Any

from dependency_injector import providers

from adapters.clock import ManualClock
from adapters.coordination.factory import build_coordination
from adapters.messaging.simulator import SimulatorMessenger
from adapters.payments.simulator import SimulatedPaymentGateway
from application.chat.pipeline import IncomingMessage
from application.ports import PaymentState, PaymentStatus
from application.replies import Reply
from application.use_cases.payments import Outcome
from entrypoints.bootstrap import application_over
from entrypoints.container import Application, InMemoryAdapters
from entrypoints.settings import Settings

ADMIN = "6281100000001"
ALICE = "6281200000002"
BOB = "6281300000003"
_ids = itertools.count(1)


def settings(**overrides: Any) -> Settings:
    values: dict[str, Any] = {"TOKOWA_ADMIN_NUMBERS": ADMIN, "TOKOWA_PUBLIC_URL": "http://shop.test"}
    values.update(overrides)
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


class Shop:
    """`await shop.say(user, text)` returns the reply text, as the customer would read it."""

    def __init__(self, adapters: Any = None, config: Settings | None = None, clock: ManualClock | None = None) -> None:
        """`adapters`: any adapter set container (default: a fresh InMemoryAdapters)."""
        self.clock = clock or ManualClock()
        config = config or settings()
        if adapters is None:
            adapters = InMemoryAdapters()
            adapters.config.from_dict({"public_url": config.public_url})
        self.adapters: Any = adapters
        self.app: Application = application_over(adapters, config)
        self.adapters.clock.override(providers.Object(self.clock))
        if self.adapters.coordination().client is None:  # in-process coordination
            # TTLs and rate-limit windows follow the same manual clock.
            self.adapters.coordination.override(providers.Object(
                build_coordination(None, clock=lambda: self.clock.now().timestamp())))
        self.pipeline = self.app.pipeline()
        self.messenger: SimulatorMessenger = self.adapters.messenger()
        self.gateway: SimulatedPaymentGateway = self.adapters.gateway()
        self.uc = self.app.use_cases()

    async def send(self, user: str, text: str | None, message_id: str | None = None) -> list[Reply]:
        return await self.pipeline.handle(IncomingMessage(message_id or f"wamid.{next(_ids)}", user, text))

    async def say(self, user: str, text: str | None, message_id: str | None = None) -> str:
        return "\n---\n".join(r.text for r in await self.send(user, text, message_id))

    def inbox(self, user: str) -> list[str]:
        return [m.reply.text for m in self.messenger.sent_to(user)]

    async def pay(self, order_id: str, state: PaymentState = PaymentState.PAID) -> Outcome:
        status = self.gateway.customer_acts(order_id, state)
        assert status is not None, f"the gateway never saw {order_id}"
        return await self.uc.apply_payment(status)

    async def notify(self, order_id: str, state: PaymentState, amount: int) -> Outcome:
        from domain.money import Rupiah

        return await self.uc.apply_payment(PaymentStatus(order_id, state, Rupiah(amount)))

    async def balance(self, user: str) -> int:
        async with self.adapters.unit_of_work() as uow:
            return (await uow.wallets.get(user)).balance.value

    async def stock(self, code: str) -> int:
        async with self.adapters.unit_of_work() as uow:
            product = await uow.products.get(code)
            assert product is not None
            return product.stock

    async def order(self, order_id: str) -> Any:
        async with self.adapters.unit_of_work() as uow:
            return await uow.orders.get(order_id)

    async def last_order_of(self, user: str) -> Any:
        async with self.adapters.unit_of_work() as uow:
            orders = await uow.orders.recent_of(user, 1)
        return orders[0] if orders else None

    async def stock_products(self) -> None:
        """A counted product and an item product, plus a customer with saldo."""
        await self.say(ADMIN, ".addproduk NF1|Netflix 1 Bulan|35000|0|Akun premium")
        await self.say(ADMIN, ".addstok NF1\nuser1@mail.test|pw1\nuser2@mail.test|pw2\nuser3@mail.test|pw3")
        await self.say(ADMIN, ".addproduk VC|Voucher 10rb|10.000|20")
        await self.say(ADMIN, f".addsaldo {ALICE} 100rb")
