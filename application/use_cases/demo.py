"""Demo products for a fresh shop (`tokowa demo`, `make run`)."""

from __future__ import annotations

from application.ports import Clock, UnitOfWorkFactory
from domain.product import Fulfilment, Product

_DEMO = [
    ("DEMO1", "Netflix Premium 1 Bulan", 35_000, 0, "Akun sharing 1 profil, garansi 30 hari."),
    ("DEMO2", "Spotify Premium 1 Bulan", 20_000, 0, "Akun individual, bisa ganti password."),
    ("DEMO3", "Voucher Game 100 Diamond", 25_000, 0, "Kode voucher dikirim lewat chat begitu lunas."),
    ("DEMO4", "Canva Pro 1 Tahun", 45_000, 25, "Undangan tim Canva Pro ke email kamu, dikirim admin."),
    ("DEMO5", "YouTube Premium 1 Bulan", 15_000, 30, "Family plan, undangan ke email kamu, dikirim admin."),
]
_ITEMS = {
    "DEMO1": [f"netflix.demo{n}@tokowa.test|Pass-{n:03d}|Profil {n}|PIN {1000 + n}" for n in range(1, 9)],
    "DEMO2": [f"spotify.demo{n}@tokowa.test|Spot-{n:03d}" for n in range(1, 6)],
    "DEMO3": [f"DIAMOND-DEMO-{n:04d}" for n in range(1, 21)],
}
# Invitations go to the buyer's own e-mail: the seller sends them by hand (`.kirim`), and the
# buyer is told so, and how to give the address.
_BY_HAND = ("DEMO4", "DEMO5")
_BY_HAND_TEXT = "Admin mengirim undangan ke email kamu. Belum kasih email? Kirim: .admin EMAIL_KAMU"


class LoadDemoProducts:
    """Load at most five DEMO products, only into a store that has no products at all."""

    def __init__(self, uow_factory: UnitOfWorkFactory, clock: Clock) -> None:
        self._uow_factory, self._clock = uow_factory, clock

    async def __call__(self) -> int:
        async with self._uow_factory() as uow:
            if await uow.products.count() > 0:
                return 0
            for code, name, price, stock, description in _DEMO:
                product = Product.create(code, name, price, stock, description)
                product.terms = "Tidak bisa refund setelah barang dikirim."
                if code in _BY_HAND:
                    product.fulfilment = Fulfilment.MANUAL
                    product.delivery_text = _BY_HAND_TEXT
                await uow.products.add(product)
                if code in _ITEMS:
                    accepted = product.accept_items(_ITEMS[code])
                    await uow.products.add_items(code, accepted, self._clock.now())
                    await uow.products.save(product)
            await uow.commit()
        return len(_DEMO)
