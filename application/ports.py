"""The ports: what the use cases need from the outside world, as Protocols.

Adapters do not inherit these; the composition root checks them structurally with mypy.
Repository methods raise domain errors for the rules the database enforces
(`DuplicateProductCode`, `PendingOrderExists`, `DuplicateLedgerReference`,
`InvalidStockItems`), and `StorageUnavailable` when the database cannot be reached.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from datetime import datetime
from types import TracebackType
from typing import Protocol

from application.replies import Reply
from domain.customer import Customer
from domain.money import Rupiah
from domain.order import Order, OrderKind, OrderStatus
from domain.payment_rules import ProviderStatus
from domain.product import Product
from domain.wallet import LedgerEntry, Wallet


class ProductRepository(Protocol):
    async def get(self, code: str, *, for_update: bool = False) -> Product | None:
        """Any product with this code, active or not."""

    async def list_active(self) -> list[Product]: ...

    async def list_inactive(self) -> list[Product]:
        """Deactivated products, by code (the seller may sell one again)."""

    async def count(self) -> int:
        """How many products exist at all, active or not."""

    async def add(self, product: Product) -> None:
        """Raises DuplicateProductCode when the code exists."""

    async def save(self, product: Product) -> None: ...

    async def add_items(self, code: str, contents: list[str], now: datetime) -> None:
        """Store new stock items. Raises InvalidStockItems when one is already in stock stored."""

    async def stored_among(self, code: str, contents: list[str]) -> set[str]:
        """Which of `contents` are stock items of `code` already, stored."""

    async def take(self, code: str, qty: int) -> Product | None:
        """Take `qty` units of an active counted-stock product in one step the database guards
        (the row stays locked until commit): the product after it. None, changing nothing, when
        the product is missing, inactive, sold by items or has fewer than `qty` left."""

    async def take_items(self, code: str, qty: int, order_id: str) -> list[str]:
        """Assign the `qty` oldest free items to the order and return their contents.
        Raises OutOfStock when fewer are free."""

    async def release_items(self, order_id: str) -> int:
        """Free the items held by an unpaid order; returns how many."""

    async def items_of_order(self, order_id: str) -> list[str]: ...

    async def free_item_counts(self) -> dict[str, int]:
        """Unsold stock items per product code, for every product that has any (consistency checks)."""


class CustomerRepository(Protocol):
    async def get(self, user_id: str) -> Customer | None: ...

    async def ensure(self, user_id: str, now: datetime) -> bool:
        """Create the customer (balance 0, bronze) if missing; True when created."""

    async def save(self, customer: Customer) -> None: ...


class WalletRepository(Protocol):
    async def get(self, user_id: str, *, for_update: bool = False) -> Wallet:
        """The customer's wallet (balance 0 when the customer does not exist yet)."""

    async def get_for_purchase(self, user_id: str, code: str) -> tuple[Wallet, Product | None]:
        """The wallet locked (as `get(for_update=True)`) and the product with `code`, active or
        not (as `ProductRepository.get`), in one step: what a purchase reads first."""

    async def save(self, wallet: Wallet) -> None:
        """Persist the balance and the wallet's new ledger entries (the customer must exist).
        Raises DuplicateLedgerReference for a repeated (reason, reference)."""

    async def ledger(self, user_id: str, limit: int = 50) -> list[LedgerEntry]:
        """Newest first."""

    async def ledger_sum(self, user_id: str) -> Rupiah: ...

    async def off_ledger(self, limit: int = 100) -> list[tuple[str, Rupiah, Rupiah]]:
        """Customers whose balance differs from the sum of their ledger, as
        (user_id, balance, ledger sum), by user id (consistency checks)."""


@dataclass(frozen=True, slots=True)
class RecentOrder:
    """What a purchase looks at in the customer's newest orders to tell a double tap: every
    purchase reads these, so only these columns are read and no `Order` is built."""

    id: str
    kind: OrderKind
    product_code: str | None
    qty: int
    status: OrderStatus
    created_at: datetime


class OrderRepository(Protocol):
    async def add(self, order: Order) -> None:
        """Raises PendingOrderExists when the user has a PENDING order and this one is PENDING,
        DuplicateOrderId when an order with this id exists; either way nothing is written and
        the unit of work can go on."""

    async def get(self, order_id: str, *, for_update: bool = False) -> Order | None: ...

    async def save(self, order: Order) -> None: ...

    async def pending_of(self, user_id: str) -> Order | None: ...

    async def recent_of(self, user_id: str, limit: int = 10) -> list[Order]:
        """Newest first."""

    async def recent_brief_of(self, user_id: str, limit: int) -> list[RecentOrder]:
        """The same orders as `recent_of`, newest first, read only as far as `RecentOrder` goes.
        A plain read: it locks nothing (a purchase has locked the wallet row before it)."""

    async def last_paid_purchase_of(self, user_id: str) -> Order | None: ...

    async def recent(self, status: OrderStatus | None = None, limit: int = 20) -> list[Order]:
        """Newest first, all customers."""

    async def pending_expiring_before(self, cutoff: datetime, limit: int = 100) -> list[Order]:
        """PENDING orders whose `expires_at` is before the cutoff, oldest first."""

    async def paid_between(self, start: datetime, end: datetime) -> list[Order]:
        """Orders paid (`paid_at`) in [start, end) that were delivered or credited as ordered:
        PAID, and REFUNDED ones (whose money went back later), newest first."""

    async def due_for_recheck(self, now: datetime, limit: int = 20) -> list[Order]:
        """Given-up link orders whose `recheck_at` has come, soonest first."""

    async def waiting_for_seller(self, limit: int = 50) -> list[Order]:
        """Paid manual purchases not delivered yet, oldest (first paid) first."""

    async def reminders_due(self, now: datetime, limit: int = 50) -> list[Order]:
        """Paid manual purchases not delivered yet whose `remind_at` has come, soonest first."""


class SettingsRepository(Protocol):
    async def all(self) -> dict[str, str]: ...

    async def put(self, key: str, value: str) -> None: ...


# WhatsApp's own limit on a text message; longer texts are cut to it when they come in.
MAX_TEXT_LENGTH = 4096
_KEPT_CONTROLS = frozenset("\n\t")


def clean_text(text: str) -> str:
    """A customer's text as the shop keeps it: NUL and the other control characters (C0, DEL,
    C1) removed except line breaks and tabs (a Windows line break becomes one line break), and
    lone surrogates (no database stores them), then cut to MAX_TEXT_LENGTH characters."""
    text = text.replace("\r\n", "\n")
    if not text.isprintable():
        text = "".join(c for c in text if c in _KEPT_CONTROLS or not _unstorable(c))
    return text[:MAX_TEXT_LENGTH]


def _unstorable(char: str) -> bool:
    code = ord(char)
    return code < 0x20 or 0x7F <= code < 0xA0 or 0xD800 <= code < 0xE000


@dataclass(frozen=True)
class IncomingMessage:
    """One message from a customer. `text` is None for media the bot does not read; any text is
    cleaned on the way in (`clean_text`), whichever transport brought it. `sent_at`: when the
    customer sent it, as the provider says (None when it does not say)."""

    message_id: str
    sender: str
    text: str | None
    business_user_id: str | None = None
    sent_at: datetime | None = None

    def __post_init__(self) -> None:
        if self.text is not None:
            object.__setattr__(self, "text", clean_text(self.text))


@dataclass(frozen=True)
class ClaimedMessage:
    """An unfinished message taken up again, and how many runs it has had, this one included."""

    message: IncomingMessage
    attempts: int


@dataclass(frozen=True)
class DeadLetter:
    """A message given up after `attempts` failed runs: finished, kept for the admins to read."""

    message_id: str
    sender: str
    text: str | None
    received_at: datetime
    sent_at: datetime | None
    attempts: int
    dead_at: datetime


@dataclass(frozen=True)
class Accepted:
    """What storing an incoming message found, in that one step."""

    first: bool  # False for a redelivery (which changed nothing)
    held: bool  # first, and the outbox holds messages for its sender (refused outside the 24-hour window)


class InboxRepository(Protocol):
    """The durable inbox: every accepted message is stored before the webhook answers."""

    async def accept(self, message: IncomingMessage, now: datetime, lease_until: datetime) -> Accepted:
        """`record`, telling in the same step whether the outbox holds messages for the sender,
        so that the pipeline asks to release them only then (almost never)."""

    async def accept_all(self, arrivals: Sequence[tuple[IncomingMessage, datetime, datetime]]) -> list[Accepted]:
        """`accept` for each (message, now, lease_until), in order, as one step where the store
        can (PostgreSQL: one statement); a message id given twice is a redelivery the second time."""

    async def record(self, message: IncomingMessage, now: datetime, lease_until: datetime) -> bool:
        """Store a new message (with its provider timestamp), leased to the caller until
        `lease_until` and counted as its first run, and in the same step make sure its sender is
        a customer (remembering the business-scoped user id it came with); False for a
        redelivery, which changes nothing."""

    async def claim_stale(self, now: datetime, lease_until: datetime, limit: int = 50) -> list[ClaimedMessage]:
        """Unfinished messages whose lease ran out (their worker died), leased anew and each run
        counted, oldest first. Several instances may claim at once: each message goes to one of them."""

    async def renew(self, message_id: str, lease_until: datetime) -> bool:
        """Extend the lease of an unfinished message whose worker is still at it; False when the
        message is finished (or unknown)."""

    async def finish(self, message_id: str, now: datetime) -> None: ...

    async def dead_letter(self, message_id: str, now: datetime) -> bool:
        """Give up on an unfinished message just claimed: finished and marked dead, but kept. The
        claim that brought it back was not a run, so it is not counted. False (changing nothing)
        when it was finished already."""

    async def dead_letters(self, limit: int = 50) -> list[DeadLetter]:
        """The messages given up, the most recently given up first."""

    async def mark_applied(self, message_id: str, now: datetime) -> bool:
        """Record, in the unit of work that makes it, that this message's effect is applied;
        False when an earlier run applied it already (the caller then skips the effect). A
        message that is not in the inbox cannot be told apart from a new one: True."""


@dataclass(frozen=True)
class QueuedMessage:
    id: int
    to: str
    reply: Reply
    attempts: int


@dataclass(frozen=True)
class Outgoing:
    """A message to queue (`OutboxRepository.add`'s arguments)."""

    to: str
    reply: Reply
    now: datetime
    lease_until: datetime
    finishes: str | None = None


class OutboxRepository(Protocol):
    """The outbox: messages written in the transaction that caused them, sent after it commits."""

    async def add(self, to: str, reply: Reply, now: datetime, lease_until: datetime, *,
                  finishes: str | None = None) -> int:
        """Queue a message leased to the caller (who sends it right after the commit); its id.
        `finishes`: the inbox message this replies to, marked finished in the same step."""

    async def add_all(self, messages: Sequence[Outgoing]) -> list[int]:
        """`add` for each message, in order, as one step where the store can (PostgreSQL: one
        statement); their ids, in the same order."""

    async def claim_due(self, now: datetime, lease_until: datetime, limit: int = 50) -> list[QueuedMessage]:
        """Unsent messages whose lease ran out, leased anew, oldest first (one instance each)."""

    async def get(self, message_id: int) -> QueuedMessage | None:
        """An unsent message, or None once it was sent or given up."""

    async def renew(self, message_id: int, lease_until: datetime) -> bool:
        """Extend the lease of an unsent message being sent; False once it was sent or given up."""

    async def mark_sent(self, message_ids: list[int], now: datetime,
                        provider_ids: dict[int, str] | None = None) -> None:
        """Mark messages sent; `provider_ids`: the transport's id of each one that has one (a
        Cloud API wamid), kept so a later failure report can find the message."""

    async def hold(self, message_id: int, now: datetime) -> None:
        """Keep an unsent (or just reported refused) message until its recipient writes again
        (WhatsApp refuses free-form messages 24 hours after their last one): no lease, no
        retries, never given up, never pruned; not claimed by `claim_due`, not `pending`."""

    async def retry(self, message_id: int, until: datetime) -> None:
        """A message reported refused after it was sent (and taken): unsent again, not held, to be
        claimed after `until`, its attempt counted."""

    async def release_held(self, to: str, lease_until: datetime) -> list[QueuedMessage]:
        """The messages held for `to`, no longer held and leased to the caller to send now,
        oldest first. Of several callers at once, each message goes to one."""

    async def take_refused(self, provider_id: str) -> QueuedMessage | None:
        """A sent message the transport reported refused after accepting it: found by its
        provider id, which is forgotten (a repeated report finds nothing). None when no sent
        message has this id."""

    async def postpone(self, message_id: int, until: datetime) -> None:
        """A send failed: count the attempt and try again after `until`."""

    async def give_up(self, message_id: int, now: datetime) -> None:
        """Stop trying (the transport refused it for good)."""

    async def pending_count(self) -> int:
        """Unsent messages waiting for a send (held ones not counted)."""

    async def held_count(self, to: str | None = None) -> int:
        """Messages held until their recipient (`to`, or anyone) writes again."""

    async def recipient_wrote_since_queued(self, message_id: int) -> bool:
        """Whether the inbox has a message from this message's recipient received after it was
        queued (their 24-hour window opened again while it was on its way)."""


class PaymentEventRepository(Protocol):
    async def record(self, order_id: str, event_key: str, raw: str, now: datetime) -> bool:
        """Store a payment notification once; False when the same event was stored before."""


@dataclass(frozen=True)
class Alert:
    """Something admins must see: kept until acknowledged, one open alert per kind and subject.
    `amount`: money that needs an admin's action (received and not yet accounted, or lost)."""

    kind: str
    subject: str
    params: dict[str, str]
    created_at: datetime
    amount: Rupiah | None = None
    id: int | None = None
    acknowledged_at: datetime | None = None


class AlertRepository(Protocol):
    async def raise_(self, alert: Alert) -> int | None:
        """Record a new alert and return its id; None (changing nothing) while an alert of the
        same kind and subject is open."""

    async def open(self, limit: int = 100) -> list[Alert]:
        """Unacknowledged alerts, newest first."""

    async def recent(self, limit: int = 50) -> list[Alert]:
        """All alerts, newest first."""

    async def acknowledge(self, alert_id: int, now: datetime) -> bool:
        """False when there is no such open alert."""

    async def resolve(self, kind: str, subject: str, now: datetime) -> bool:
        """Acknowledge the open alert of this kind and subject (its cause went away); False when
        none is open. Of several callers at once, one gets True."""


class JobLeaseRepository(Protocol):
    async def claim(self, job: str, holder: str, now: datetime, until: datetime) -> bool:
        """Take the cluster-wide lease of a periodic job until `until`: True when it was free
        (never taken, or run out by `now`) or already this holder's. One caller of many wins."""


@dataclass(frozen=True)
class StoredText:
    """A message the shop keeps of a customer's conversation: `direction` "in" (the customer
    wrote it) or "out" (the shop sent or will send it)."""

    direction: str
    at: datetime
    text: str
    # What the shop sent as a whole (list, buttons, link, picture); None for what the customer wrote.
    reply: Reply | None = field(default=None, compare=False)


class HousekeepingRepository(Protocol):
    """Records with a lifetime (retention), cluster-wide job rounds, and a customer's data
    (export, forgetting)."""

    async def claim_job(self, name: str, now: datetime, until: datetime) -> bool:
        """Claim the named job's round until `until`: True for exactly one caller while the last
        claim has not run out (whatever the number of instances)."""

    async def prune_inbox(self, received_before: datetime, limit: int) -> int:
        """Delete up to `limit` finished messages received before the cutoff; how many."""

    async def prune_outbox(self, created_before: datetime, limit: int) -> int:
        """Delete up to `limit` sent or given-up messages queued before the cutoff; how many."""

    async def prune_payment_events(self, received_before: datetime, limit: int) -> int:
        """Delete up to `limit` payment notifications received before the cutoff; how many."""

    async def messages_of(self, user_id: str, limit: int = 1000) -> list[StoredText]:
        """The texts the shop still keeps from and to the customer, oldest first."""

    async def forget_customer(self, user_id: str, pseudonym: str) -> None:
        """Replace the customer's number by `pseudonym` wherever it is stored (customer,
        orders, ledger, alerts, payment records), delete their messages both ways and the
        contents of the stock items delivered to them. Amounts, statuses and dates stay."""


class UnitOfWork(Protocol):
    """One database transaction. Leaving the block without `commit()` discards every change."""

    @property
    def products(self) -> ProductRepository: ...

    @property
    def customers(self) -> CustomerRepository: ...

    @property
    def wallets(self) -> WalletRepository: ...

    @property
    def orders(self) -> OrderRepository: ...

    @property
    def settings(self) -> SettingsRepository: ...

    @property
    def inbox(self) -> InboxRepository: ...

    @property
    def payments(self) -> PaymentEventRepository: ...

    @property
    def outbox(self) -> OutboxRepository: ...

    @property
    def alerts(self) -> AlertRepository: ...

    @property
    def housekeeping(self) -> HousekeepingRepository: ...

    @property
    def leases(self) -> JobLeaseRepository: ...

    async def __aenter__(self) -> UnitOfWork: ...

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None: ...

    async def commit(self) -> None: ...

    async def rollback(self) -> None: ...

    def batched(self) -> AbstractAsyncContextManager[None]:
        """A scope whose writes the database may send later, together with a later statement of
        the scope (PostgreSQL: the order and the ledger entry ride in front of the stock take,
        one round trip), at the latest when the scope ends. Their errors come out by then,
        the same errors as at once, first the earliest write's; a caller that catches a write's
        error to carry on in the same unit (an id drawn again) makes that write outside the
        scope. Memory and SQLite run every write at once."""
        ...


UnitOfWorkFactory = Callable[[], UnitOfWork]
# Also the type of a factory of units of work for exactly one repository call whose change is
# atomic by itself (the inbox's `record`, the outbox's `add`): a database may then skip BEGIN and
# COMMIT. `commit()` is still called; any other use of such a unit of work is a bug.


class Cache(Protocol):
    """A string cache with TTLs. Failing open: errors read as a miss and writes are dropped."""

    async def get(self, key: str) -> str | None: ...

    async def set(self, key: str, value: str, ttl_seconds: int) -> None: ...

    async def delete(self, *keys: str) -> None: ...


@dataclass(frozen=True)
class Lock:
    key: str
    token: str


class LockManager(Protocol):
    async def acquire(self, key: str, ttl_ms: int) -> Lock | None:
        """None when someone else holds the key. Failing open: a Lock nobody else can see."""

    async def release(self, lock: Lock) -> bool:
        """Release only if still held with this token; True when released."""


@dataclass(frozen=True)
class RateDecision:
    allowed: bool
    warn: bool  # True only for the first refused hit of a window
    # Refused: seconds until the window ends (when the store knows it); not part of equality.
    retry_after: int | None = field(default=None, compare=False)


class RateLimiter(Protocol):
    async def hit(self, key: str, limit: int, window_seconds: int) -> RateDecision:
        """Count one hit in a fixed window. Failing open: allowed."""

    async def forgive(self, key: str) -> None:
        """Take one hit back (the attempt it counted did nothing), in the same window; never
        below zero. Failing open: nothing."""


@dataclass(frozen=True)
class Admission:
    rate: RateDecision  # allowed when no rate limit was counted
    lock: Lock | None  # the lock asked for; None when not asked, refused by the limit, or held by another
    peeked: str | None  # the cached value asked for; None for a miss


class Gatekeeper(Protocol):
    """The checks before a chat message runs, in one step (on Redis one round trip): count a
    rate-limit hit, take a per-user lock only when the hit is allowed, and read one cache key.
    Fails open like its parts: allowed, a lock nobody else can see, a miss."""

    async def admit(self, *, rate_key: str | None, limit: int, window_seconds: int, lock_key: str | None,
                    lock_ttl_ms: int, peek: str | None) -> Admission: ...

    async def finish(self, lock: Lock | None, forget: Sequence[str] = ()) -> bool:
        """The step after the command, before its reply is queued: release the lock `admit` took
        (only if still held with its token, as `LockManager.release`) and delete the cache keys
        `forget`, in one step (on Redis one round trip). True when the lock was released. Fails
        open like its parts: the lock is left to its TTL and the keys are not deleted."""


# What a payment provider reports (Midtrans' statuses; the order's status names are aliases).
PaymentState = ProviderStatus


@dataclass(frozen=True)
class LineItem:
    id: str
    name: str
    price: Rupiah
    quantity: int


@dataclass(frozen=True)
class PaymentRequest:
    order_id: str
    amount: Rupiah
    items: tuple[LineItem, ...]
    customer_phone: str
    start_time: datetime
    expiry_minutes: int


@dataclass(frozen=True)
class PaymentLink:
    """How to pay a Midtrans order: the link, and for a QRIS charge the code to show as a picture
    (`url` is then a page of the code the customer can open instead)."""

    url: str
    token: str | None = None
    qr_string: str | None = None


@dataclass(frozen=True)
class PaymentStatus:
    """What the provider says about an order (confirmed with its status API)."""

    order_id: str
    state: PaymentState
    gross_amount: Rupiah
    currency: str = "IDR"
    # Refunds and chargebacks: how much was taken back in all so far (None: not reported).
    reversed_amount: Rupiah | None = None


class PaymentGateway(Protocol):
    @property
    def available(self) -> bool:
        """False when link payments are switched off (no provider configured)."""

    async def create(self, request: PaymentRequest) -> PaymentLink:
        """A payment link. Raises PaymentProviderUnavailable."""

    async def charge_qris(self, request: PaymentRequest) -> PaymentLink:
        """A QRIS charge that expires with the order: its `qr_string` (and a link to the code,
        or "" when there is none). Raises PaymentProviderUnavailable."""

    async def status(self, order_id: str) -> PaymentStatus | None:
        """None when the provider does not know the order (yet)."""

    async def cancel(self, order_id: str) -> None: ...


class Messenger(Protocol):
    async def send(self, to: str, reply: Reply) -> str | None:
        """Deliver one reply to a WhatsApp number (wa_id); the transport's id of the (first)
        message sent, when it gives one (Cloud API: the wamid its status webhooks name).
        Raises MessengerUnavailable (RecipientOutsideWindow: only after the number writes again)."""


class TransportHealth(Protocol):
    async def connected(self) -> bool | None:
        """Whether the WhatsApp transport can send now (GOWA: its session is connected and
        logged in; Cloud API: Meta accepts the token). None: nothing to check (simulator) or
        no answer either way. Never raises."""


class Clock(Protocol):
    def now(self) -> datetime:
        """Timezone-aware UTC."""


class SessionStore(Protocol):
    """Each customer's conversation state (the last numbered choices shown, a question waiting
    for an answer), kept `ttl_seconds` from its last use under `session:{user}`. Losing it only
    costs the customer a question again, never money. Failing open: with Redis down the state
    lives in this process until Redis is back."""

    async def load(self, user_id: str, ttl_seconds: int) -> str | None:
        """The state, its lifetime renewed; None when there is none."""

    async def save(self, user_id: str, state: str, ttl_seconds: int) -> None: ...

    async def merge(self, user_id: str, fields: str, ttl_seconds: int) -> None:
        """The state (a JSON object; none: an empty one) with the top-level fields of `fields`
        (a JSON object) written over it, its lifetime renewed: a load and a save in one step."""

    async def drop(self, user_id: str) -> None: ...
