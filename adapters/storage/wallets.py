"""Customers and wallets: `users` rows (tier in `role`, saldo) and the `ledger`."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, BindParameter, Row, String, bindparam, func, literal_column, select, text, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError

from adapters.storage.direct import prebuilt
from adapters.storage.errors import violates
from adapters.storage.products import SqlAlchemyProductRepository, product_of_row
from adapters.storage.session import Transaction, bound
from adapters.storage.tables import UtcDateTime, ledger, produk, users
from domain.customer import Customer
from domain.errors import DuplicateLedgerReference, InsufficientBalance
from domain.money import Rupiah
from domain.product import Product, Tier
from domain.wallet import LedgerEntry, Wallet


_CUSTOMER = prebuilt(select(users).where(users.c.user_id == bindparam("user_id")))


class SqlAlchemyCustomerRepository:
    """`CustomerRepository`: the tier is `users.role`; the business user id lives in `users.data`."""

    def __init__(self, tx: Transaction) -> None:
        self._tx = tx

    async def get(self, user_id: str) -> Customer | None:
        row = (await self._tx.execute(_CUSTOMER, {"user_id": user_id})).first()
        if row is None:
            return None
        data = row.data or {}
        return Customer(
            user_id=row.user_id,
            tier=Tier(row.role),
            created_at=row.created_at,
            business_user_id=data.get("business_user_id"),
            language=data.get("language"),
        )

    async def ensure(self, user_id: str, now: datetime) -> bool:
        return await self._tx.insert_ignoring_conflicts(
            users, {"user_id": user_id, "saldo": 0, "role": Tier.BRONZE.value, "data": {}, "created_at": now}
        )

    async def save(self, customer: Customer) -> None:
        values = {
            "role": customer.tier.value,
            "data": {"business_user_id": customer.business_user_id, "language": customer.language},
        }
        insert = pg_insert(users) if self._tx.is_postgres else sqlite_insert(users)
        statement = insert.values(
            user_id=customer.user_id, saldo=0, created_at=customer.created_at, **values
        ).on_conflict_do_update(index_elements=[users.c.user_id], set_=values)
        await self._tx.execute(statement)


# Built once (hot path: every purchase and deposit); the values come as parameters.
_SET_SALDO = prebuilt(
    update(users).where(users.c.user_id == bindparam("wallet_user_id")).values(**bound(users, "saldo"))
)
_SALDO = prebuilt(select(users.c.saldo).where(users.c.user_id == bindparam("user_id")))
_SALDO_FOR_UPDATE = prebuilt(_SALDO.with_for_update(key_share=True))  # NO KEY UPDATE: rows referencing it go on
# PostgreSQL: the wallet row locked and the product read in one statement (one round trip). The
# locking sub-select takes the lock; the product comes from the statement's snapshot, taken
# before any wait for that lock (a purchase re-checks the product when it takes the stock).
_WALLET_AND_PRODUCT_PG = prebuilt(
    select(_SALDO.with_for_update(key_share=True).scalar_subquery().label("wallet_saldo"), *produk.c)
    .select_from(select(literal_column("1").label("one")).subquery("one")
                 .outerjoin(produk, produk.c.id == bindparam("code")))
)


# PostgreSQL: a ledger row and the balance it leads to, in one statement (one round trip); no
# row back when the entry's (reason, reference) was already taken, and then nothing changes.
# Written as CTE steps, so that `UnitOfWork.batched` can hold them too (`Transaction.hold`).
_ENTRY_AND_SALDO_STEPS = """
    {p}entry AS (
        INSERT INTO ledger (user_id, delta, balance_after, reason, reference, created_at)
        VALUES (:user_id, :delta, :balance_after, :reason, :reference, :created_at)
        ON CONFLICT DO NOTHING
        RETURNING user_id
    ),
    {p}done AS (UPDATE users SET saldo = :saldo WHERE user_id = (SELECT user_id FROM {p}entry) RETURNING saldo)
"""


def _entry_and_saldo_binds() -> list[BindParameter[Any]]:
    return [
        bindparam("user_id", type_=String), bindparam("delta", type_=BigInteger),
        bindparam("balance_after", type_=BigInteger), bindparam("reason", type_=String),
        bindparam("reference", type_=String), bindparam("created_at", type_=UtcDateTime()),
        bindparam("saldo", type_=BigInteger),
    ]


_ENTRY_AND_SALDO_PG = prebuilt(
    text("WITH " + _ENTRY_AND_SALDO_STEPS.replace("{p}", "") + " SELECT saldo FROM done")
    .bindparams(*_entry_and_saldo_binds()).columns(saldo=BigInteger))
_ENTRY_AND_SALDO_HELD = prebuilt(text(_ENTRY_AND_SALDO_STEPS).bindparams(*_entry_and_saldo_binds()))
_ENTRY_AND_SALDO_TOUCHES = frozenset({"ledger", "users"})


def _entry_values(entry: LedgerEntry) -> dict[str, Any]:
    return {
        "user_id": entry.user_id,
        "delta": entry.delta.value,
        "balance_after": entry.balance_after.value,
        "reason": entry.reason,
        "reference": entry.reference,
        "created_at": entry.at,
    }


def _to_entry(row: Row[Any]) -> LedgerEntry:
    return LedgerEntry(
        user_id=row.user_id,
        delta=Rupiah(row.delta),
        balance_after=Rupiah(row.balance_after),
        reason=row.reason,
        reference=row.reference,
        at=row.created_at,
    )


class SqlAlchemyWalletRepository:
    """`WalletRepository`: the balance in `users.saldo`, every change a `ledger` row."""

    def __init__(self, tx: Transaction) -> None:
        self._tx = tx

    async def get(self, user_id: str, *, for_update: bool = False) -> Wallet:
        query = _SALDO_FOR_UPDATE if for_update else _SALDO
        saldo = (await self._tx.execute(query, {"user_id": user_id})).scalar_one_or_none()
        return Wallet(user_id=user_id, balance=Rupiah(saldo or 0))

    async def get_for_purchase(self, user_id: str, code: str) -> tuple[Wallet, Product | None]:
        if not self._tx.is_postgres:  # one writer: two statements cost no more
            return await self.get(user_id, for_update=True), await SqlAlchemyProductRepository(self._tx).get(code)
        row = (await self._tx.execute(_WALLET_AND_PRODUCT_PG, {"user_id": user_id, "code": code.upper()})).first()
        assert row is not None  # the statement always gives one row
        product = product_of_row(row, self._tx.cipher) if row.id is not None else None
        return Wallet(user_id=user_id, balance=Rupiah(row.wallet_saldo or 0)), product

    async def save(self, wallet: Wallet) -> None:
        entries = list(wallet.new_entries)
        if len(entries) == 1:
            await self._write(wallet, entries)
        else:
            async with self._tx.savepoint():
                await self._write(wallet, entries)
        wallet.new_entries.clear()

    async def _write(self, wallet: Wallet, entries: list[LedgerEntry]) -> None:
        if self._tx.is_postgres and len(entries) == 1:
            return await self._write_one(wallet, entries[0])
        # The ledger rows go first: a repeated reference is refused before the balance moves.
        for entry in entries:
            if not await self._insert_entry(entry):
                raise DuplicateLedgerReference(reason=entry.reason, reference=entry.reference)
        try:
            result = await self._tx.execute(
                _SET_SALDO, {"wallet_user_id": wallet.user_id, "v_saldo": wallet.balance.value}
            )
        except IntegrityError as error:
            if violates(error, "ck_users_saldo_nonneg", "saldo"):
                raise InsufficientBalance(balance=0, needed=-wallet.balance.value) from error
            raise
        if result.rowcount != 1:
            raise LookupError(f"no customer {wallet.user_id!r}: ensure the customer before saving a wallet")

    async def _write_one(self, wallet: Wallet, entry: LedgerEntry) -> None:
        """PostgreSQL, the usual case of one entry: ledger row and balance in one statement
        (held inside `UnitOfWork.batched`, and settled when it is sent)."""
        params = {**_entry_values(entry), "saldo": wallet.balance.value}

        def refuse(error: IntegrityError) -> BaseException | None:
            if violates(error, "ck_users_saldo_nonneg"):
                return InsufficientBalance(balance=0, needed=-wallet.balance.value)
            if violates(error, "ledger_user_id_fkey"):
                return LookupError(f"no customer {entry.user_id!r}: ensure the customer first")
            return None

        async def settle(moved: int) -> None:
            if not moved:  # the entry's (reason, reference) was taken: nothing changed
                raise DuplicateLedgerReference(reason=entry.reason, reference=entry.reference)

        if self._tx.holding:
            await self._tx.hold(_ENTRY_AND_SALDO_HELD, params, touches=_ENTRY_AND_SALDO_TOUCHES,
                                settle=settle, refuse=refuse)
            return
        try:
            moved = (await self._tx.execute(_ENTRY_AND_SALDO_PG, params)).first()
        except IntegrityError as error:
            refused = refuse(error)
            if refused is not None:
                raise refused from error
            raise
        await settle(0 if moved is None else 1)

    async def _insert_entry(self, entry: LedgerEntry) -> bool:
        try:
            return await self._tx.insert_ignoring_conflicts(ledger, _entry_values(entry))
        except IntegrityError as error:
            if violates(error, "ledger_user_id_fkey", "FOREIGN KEY"):
                raise LookupError(f"no customer {entry.user_id!r}: ensure the customer first") from error
            raise

    async def ledger(self, user_id: str, limit: int = 50) -> list[LedgerEntry]:
        rows = await self._tx.execute(
            select(ledger).where(ledger.c.user_id == user_id).order_by(ledger.c.id.desc()).limit(limit)
        )
        return [_to_entry(row) for row in rows]

    async def ledger_sum(self, user_id: str) -> Rupiah:
        total = await self._tx.execute(
            select(func.coalesce(func.sum(ledger.c.delta), 0)).where(ledger.c.user_id == user_id)
        )
        return Rupiah(int(total.scalar_one()))

    async def off_ledger(self, limit: int = 100) -> list[tuple[str, Rupiah, Rupiah]]:
        sums = (
            select(ledger.c.user_id, func.sum(ledger.c.delta).label("total"))
            .group_by(ledger.c.user_id)
            .subquery()
        )
        total = func.coalesce(sums.c.total, 0)
        rows = await self._tx.execute(
            select(users.c.user_id, users.c.saldo, total.label("summed"))
            .select_from(users.outerjoin(sums, sums.c.user_id == users.c.user_id))
            .where(users.c.saldo != total)
            .order_by(users.c.user_id)
            .limit(limit)
        )
        return [(str(row.user_id), Rupiah(int(row.saldo)), Rupiah(int(row.summed))) for row in rows]
