"""The simulated payment gateway with the provider's answers under the simulation's control."""

from __future__ import annotations

from adapters.payments.simulator import SimulatedPaymentGateway
from application.errors import PaymentProviderUnavailable
from application.ports import PaymentLink, PaymentRequest, PaymentState, PaymentStatus
from domain.money import Rupiah
from domain.payment_rules import ProviderStatus
from tests.simulation.rules import payment_status, state_of


class ScriptedGateway(SimulatedPaymentGateway):
    """Links as the simulator makes them; the status API answers what `report` last set for
    the order (None before), or fails while `status_down`."""

    def __init__(self) -> None:
        super().__init__("http://shop.test", "simulation-key")
        # order id -> (status, gross amount, reversed in all)
        self.reports: dict[str, tuple[ProviderStatus, Rupiah, Rupiah | None]] = {}
        self.status_down = False
        self.created: list[str] = []  # orders a link was made for, in order

    async def create(self, request: PaymentRequest) -> PaymentLink:
        link = await super().create(request)
        if request.order_id not in self.created:
            self.created.append(request.order_id)
        return link

    def report(self, order_id: str, report: ProviderStatus, amount: Rupiah, reversed_amount: Rupiah | None = None) -> None:
        self.reports[order_id] = (report, amount, reversed_amount)

    async def status(self, order_id: str) -> PaymentStatus | None:
        if self.status_down:
            raise PaymentProviderUnavailable("simulated status API outage")
        found = self.reports.get(order_id)
        if found is None:
            return None
        return payment_status(order_id, *found)

    async def cancel(self, order_id: str) -> None:
        amount = self.amount_of(order_id)
        found = self.reports.get(order_id)
        if amount is not None and (found is None or state_of(found[0]) is PaymentState.PENDING):
            self.reports[order_id] = (ProviderStatus.CANCEL, amount, None)
