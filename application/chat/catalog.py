"""Every text the bot sends, in Indonesian (default) and English. Nothing user-facing lives elsewhere."""

from __future__ import annotations

from typing import Final

LANGUAGES: Final = ("id", "en")

_ID: dict[str, str] = {
    "menu.header": "*{shop}*\n{welcome}",
    "menu.welcome": "Selamat datang! Ketik perintah di bawah untuk belanja.",
    "menu.customer": (
        "*Perintah*\n"
        ".produk — daftar produk\n"
        ".produk KODE — detail produk\n"
        ".buy KODE [JUMLAH] [saldo|link] — beli\n"
        ".saldo — cek saldo\n"
        ".deposit NOMINAL — isi saldo\n"
        ".riwayat — 10 transaksi terakhir\n"
        ".status ORDER_ID — cek pesanan\n"
        ".batal — batalkan pembayaran yang menunggu\n"
        ".kirimulang [ORDER_ID] — kirim ulang pesanan\n"
        ".bahasa id|en — bahasa balasan"
    ),
    "menu.admin": (
        "*Admin*\n"
        ".addproduk KODE|Nama|Harga|Stok[|Deskripsi]\n"
        ".setharga KODE HARGA · .setproduk KODE FIELD NILAI\n"
        ".addstok KODE JUMLAH · .setstok KODE JUMLAH · .addstok KODE + baris item\n"
        ".cekstok KODE · .hapusproduk KODE\n"
        ".addsaldo NOMOR NOMINAL · .kurangsaldo NOMOR NOMINAL · .setrole NOMOR TIER\n"
        ".pesanan [STATUS] · .rekap [HARI] · .setting KEY VALUE"
    ),
    "products.header": "*Daftar produk {shop}*",
    "products.row": "• *{code}* — {name}\n  {price} · stok {stock}",
    "products.footer": "Beli: .buy KODE [JUMLAH]",
    "products.empty": "Belum ada produk yang dijual.",
    "products.button": "Lihat produk",
    "products.more": "Produk lainnya",
    "product.detail": "*{name}* ({code})\nHarga: {price}\nStok: {stock}\n{description}\nBeli: .buy {code} [JUMLAH]",
    "product.out": "habis",
    "product.not_found": "Produk {code} tidak ditemukan. Ketik .produk untuk melihat daftar.",
    "balance": "Saldo kamu: *{balance}*",
    "buy.paid": "✅ Pembelian berhasil!\nOrder: {order_id}\n{qty}x {name} = {total}\nSisa saldo: {balance}",
    "buy.link": (
        "🧾 Order {order_id}\n{qty}x {name} = {total}\n"
        "Bayar sebelum {expires} lewat link berikut:\n{url}"
    ),
    "buy.link_button": "Bayar sekarang",
    "deposit.link": "💳 Isi saldo {amount}\nOrder: {order_id}\nBayar sebelum {expires}:\n{url}",
    "delivery.header": "📦 *Pesanan {order_id}*\n{qty}x {name}",
    "delivery.item": "{n}. {item}",
    "delivery.text": "{text}",
    "delivery.terms": "S&K: {terms}",
    "delivery.thanks": "Terima kasih sudah belanja di {shop}!",
    "topup.paid": "✅ Saldo bertambah {amount} (order {order_id}).\nSaldo sekarang: {balance}",
    "late.credited": (
        "Pembayaran order {order_id} ({amount}) diterima setelah order berakhir dan stok sudah habis. "
        "Dananya kami masukkan ke saldo kamu. Saldo sekarang: {balance}"
    ),
    "order.expired": "⌛ Order {order_id} kedaluwarsa. Stok dikembalikan.",
    "order.failed": "❌ Pembayaran order {order_id} gagal.",
    "order.refunded": "↩️ Order {order_id} dikembalikan dananya oleh penyedia pembayaran.",
    "cancel.done": "Order {order_id} dibatalkan.",
    "history.header": "*Riwayat transaksi*",
    "history.row": "{order_id} · {what} · {total} · {status}",
    "history.topup": "isi saldo",
    "history.empty": "Belum ada transaksi.",
    "status": "Order {order_id}\n{what}\nTotal: {total}\nMetode: {method}\nStatus: *{status}*\nDibuat: {created}",
    "status.pay_link": "Link bayar: {url}",
    "resend.header": "Kirim ulang:",
    "error.unknown_command": "Perintah tidak dikenal. Ketik .menu untuk daftar perintah.",
    "error.unsupported_media": "Maaf, kirim perintah dalam bentuk teks ya. Ketik .menu untuk daftar perintah.",
    "error.rate_limited": "Terlalu banyak permintaan. Tunggu sebentar lalu coba lagi.",
    "error.busy": "Transaksi sedang diproses. Tunggu sebentar ya.",
    "error.pending_exists": (
        "Transaksi sedang diproses: order {order_id} masih menunggu pembayaran.\n"
        "Selesaikan atau .batal dulu."
    ),
    "error.system": "Sistem sedang gangguan, coba lagi sebentar.",
    "error.system_pending": (
        "Sistem sedang gangguan. Pesan kamu sudah kami terima dan akan diproses otomatis begitu sistem "
        "pulih, tidak perlu dikirim ulang."
    ),
    "error.too_late": (
        "Perintah ini baru sampai ke kami lebih dari 10 menit setelah kamu kirim, jadi tidak kami jalankan "
        "demi keamanan saldo kamu. Silakan kirim ulang perintahnya."
    ),
    "error.dead_letter": (
        "Maaf, pesan kamu tidak berhasil kami proses dan admin sudah kami beri tahu. "
        "Silakan coba lagi nanti, atau hubungi admin toko."
    ),
    "error.payment_unavailable": "Pembayaran lewat link sedang tidak tersedia, coba lagi sebentar.",
    "error.links_off": "Pembayaran lewat link tidak aktif di toko ini. Gunakan saldo.",
    "error.out_of_stock": "Stok {code} tidak cukup (sisa {left}).",
    "error.insufficient": "Saldo tidak cukup. Saldo: {balance}, total: {total}.",
    "error.qty": "Jumlah harus 1 sampai {max}.",
    "error.amount": "Nominal tidak valid. Contoh: 50000, 50.000, 50rb atau 50k.",
    "error.deposit_range": "Nominal deposit harus antara {min} dan {max}.",
    "error.order_not_found": "Order {order_id} tidak ditemukan.",
    "error.no_pending": "Tidak ada pembayaran yang menunggu.",
    "error.nothing_to_resend": "Belum ada pesanan lunas untuk dikirim ulang.",
    "error.not_cancellable": "Order {order_id} tidak bisa dibatalkan (status {status}).",
    "error.phone": "Nomor {number} tidak valid. Gunakan 08..., +62... atau 62....",
    "error.code": "Kode produk hanya huruf dan angka.",
    "error.field": "Field tidak valid. Pilihan: {fields}.",
    "error.name": "Nama produk harus 1 sampai 100 karakter.",
    "error.setting": "Setting tidak valid. Pilihan: {keys}.",
    "error.duplicate_code": "Kode {code} sudah ada.",
    "error.stock_kind_items": "Produk {code} memakai item stok: tambahkan item per baris, bukan angka.",
    "error.stock_kind_count": "Produk {code} memakai stok angka: gunakan .addstok {code} JUMLAH.",
    "error.stock_items": "Item ditolak: {blank} baris kosong, {duplicates} duplikat. Tidak ada yang ditambahkan.",
    "error.illegal": "Status order tidak bisa diubah.",
    "usage.produk": "Format: .produk [KODE]",
    "usage.buy": "Format: .buy KODE [JUMLAH] [saldo|link]\nContoh: .buy NF1 2",
    "usage.deposit": "Format: .deposit NOMINAL\nContoh: .deposit 50rb",
    "usage.status": "Format: .status ORDER_ID",
    "usage.batal": "Format: .batal [ORDER_ID]",
    "usage.kirimulang": "Format: .kirimulang [ORDER_ID]",
    "usage.bahasa": "Format: .bahasa id|en",
    "language.set": "Baik, balasan sekarang dalam Bahasa Indonesia.",
    "usage.addproduk": "Format: .addproduk KODE|Nama|Harga|Stok[|Deskripsi]",
    "usage.setharga": "Format: .setharga KODE HARGA",
    "usage.addstok": "Format: .addstok KODE JUMLAH, atau .addstok KODE lalu satu item per baris",
    "usage.setstok": "Format: .setstok KODE JUMLAH",
    "usage.cekstok": "Format: .cekstok KODE",
    "usage.setrole": "Format: .setrole NOMOR bronze|silver|gold",
    "usage.hapusproduk": "Format: .hapusproduk KODE",
    "usage.addsaldo": "Format: .addsaldo NOMOR NOMINAL",
    "usage.kurangsaldo": "Format: .kurangsaldo NOMOR NOMINAL",
    "usage.setproduk": "Format: .setproduk KODE FIELD NILAI\nField: {fields}",
    "usage.pesanan": "Format: .pesanan [PENDING|PAID|EXPIRED|CANCELLED|FAILED|REFUNDED]",
    "usage.rekap": "Format: .rekap [HARI] (1-365)",
    "usage.setting": "Format: .setting KEY VALUE\nKey: {keys}",
    "admin.product_added": "Produk {code} ditambahkan: {name}, {price}, stok {stock}.",
    "admin.product_reactivated": "Produk {code} diaktifkan lagi: {name}, {price}, stok {stock}.",
    "admin.price_set": "Harga {code} sekarang {price}.",
    "admin.stock_set": "Stok {code} sekarang {stock}.",
    "admin.items_added": "{added} item ditambahkan ke {code}. Stok sekarang {stock}.",
    "admin.stock_count": "Stok {code}: {stock} tersisa.",
    "admin.role_set": "Tier {number} sekarang {tier}.{new}",
    "admin.new_customer": " (nomor baru, belum pernah chat)",
    "admin.product_removed": "Produk {code} dinonaktifkan.",
    "admin.balance_added": "Saldo {number} +{amount} → {balance}.{new}",
    "admin.balance_taken": "Saldo {number} -{amount} → {balance}.",
    "admin.field_set": "{field} untuk {code} diperbarui.",
    "admin.orders_header": "*Pesanan terbaru*",
    "admin.orders_row": "{order_id} · {user} · {what} · {total} · {status}",
    "admin.orders_empty": "Tidak ada pesanan.",
    "admin.report": (
        "*Rekap {days} hari* (sejak {since})\nPesanan lunas: {orders}\nPendapatan: {revenue}\n"
        "Top-up: {topups} ({topup_total})\nProduk terlaris:\n{top}"
    ),
    "admin.report_top": "• {code} — {qty} terjual",
    "admin.report_none": "• -",
    "admin.setting_set": "Setting {key} = {value}.",
    "alert.low_stock": "⚠️ Stok {code} ({name}) tinggal {stock}.",
    "alert.late_paid": "ℹ️ Pembayaran terlambat untuk {order_id} diterima dan diproses sebagai PAID.",
    "alert.late_credited": "⚠️ Pembayaran terlambat {order_id} ({amount}) dimasukkan ke saldo {user}: stok tidak cukup.",
    "alert.amount_mismatch": "🚨 Notifikasi pembayaran {order_id}: jumlah {paid} ≠ total {total}. Tidak ada perubahan.",
    "alert.unknown_order": "🚨 Notifikasi pembayaran untuk order tidak dikenal {order_id}.",
    "alert.deny_after_paid": "🚨 Order {order_id} sudah PAID tetapi penyedia pembayaran melaporkan {state}. Periksa manual.",
    "alert.ledger_mismatch": "🚨 Saldo {subject} = {actual}, tetapi jumlah mutasinya {expected}. Periksa manual.",
    "alert.stock_mismatch": "🚨 Stok {subject} = {actual}, tetapi item tersisa {expected}. Periksa manual.",
    "alert.undelivered": "🚨 Order {subject} PAID tetapi hanya {actual} dari {expected} item tercatat. Periksa manual.",
    "alert.dead_letter": (
        "🚨 Pesan {message_id} dari {sender} gagal diproses {runs} kali dan dihentikan: \"{excerpt}\". "
        "Pelanggan sudah diberi tahu; lihat daftar di /api/v1/dead-letters."
    ),
    "status.PENDING": "menunggu pembayaran",
    "status.PAID": "lunas",
    "status.EXPIRED": "kedaluwarsa",
    "status.CANCELLED": "dibatalkan",
    "status.FAILED": "gagal",
    "status.REFUNDED": "dikembalikan",
    "method.saldo": "saldo",
    "method.midtrans": "link pembayaran",
}

_EN: dict[str, str] = {
    "menu.header": "*{shop}*\n{welcome}",
    "menu.welcome": "Welcome! Type one of the commands below to shop.",
    "menu.customer": (
        "*Commands*\n"
        ".products — product list\n"
        ".products CODE — product details\n"
        ".buy CODE [QTY] [saldo|link] — buy\n"
        ".balance — your balance\n"
        ".topup AMOUNT — top up your balance\n"
        ".history — last 10 transactions\n"
        ".status ORDER_ID — check an order\n"
        ".cancel — cancel a pending payment\n"
        ".resend [ORDER_ID] — send an order again\n"
        ".language id|en — reply language"
    ),
    "menu.admin": _ID["menu.admin"],
    "products.header": "*{shop} products*",
    "products.row": "• *{code}* — {name}\n  {price} · stock {stock}",
    "products.footer": "Buy: .buy CODE [QTY]",
    "products.empty": "Nothing for sale yet.",
    "products.button": "See products",
    "products.more": "More products",
    "product.detail": "*{name}* ({code})\nPrice: {price}\nStock: {stock}\n{description}\nBuy: .buy {code} [QTY]",
    "product.out": "sold out",
    "product.not_found": "Product {code} not found. Type .products for the list.",
    "balance": "Your balance: *{balance}*",
    "buy.paid": "✅ Purchase complete!\nOrder: {order_id}\n{qty}x {name} = {total}\nBalance left: {balance}",
    "buy.link": "🧾 Order {order_id}\n{qty}x {name} = {total}\nPay before {expires} with this link:\n{url}",
    "buy.link_button": "Pay now",
    "deposit.link": "💳 Top-up {amount}\nOrder: {order_id}\nPay before {expires}:\n{url}",
    "delivery.header": "📦 *Order {order_id}*\n{qty}x {name}",
    "delivery.item": "{n}. {item}",
    "delivery.text": "{text}",
    "delivery.terms": "Terms: {terms}",
    "delivery.thanks": "Thank you for shopping at {shop}!",
    "topup.paid": "✅ Balance topped up by {amount} (order {order_id}).\nBalance now: {balance}",
    "late.credited": (
        "Payment for order {order_id} ({amount}) arrived after the order ended and the stock is gone. "
        "We added it to your balance. Balance now: {balance}"
    ),
    "order.expired": "⌛ Order {order_id} expired. The stock was released.",
    "order.failed": "❌ Payment for order {order_id} failed.",
    "order.refunded": "↩️ Order {order_id} was refunded by the payment provider.",
    "cancel.done": "Order {order_id} cancelled.",
    "history.header": "*Transaction history*",
    "history.row": "{order_id} · {what} · {total} · {status}",
    "history.topup": "top-up",
    "history.empty": "No transactions yet.",
    "status": "Order {order_id}\n{what}\nTotal: {total}\nMethod: {method}\nStatus: *{status}*\nCreated: {created}",
    "status.pay_link": "Payment link: {url}",
    "resend.header": "Sent again:",
    "error.unknown_command": "Unknown command. Type .menu for the list of commands.",
    "error.unsupported_media": "Sorry, please send commands as text. Type .menu for the list of commands.",
    "error.rate_limited": "Too many requests. Please wait a moment and try again.",
    "error.busy": "A transaction is in progress. Please wait a moment.",
    "error.pending_exists": (
        "A transaction is in progress: order {order_id} is waiting for payment.\n"
        "Finish it or .cancel it first."
    ),
    "error.system": "The system is having trouble, please try again shortly.",
    "error.system_pending": (
        "The system is having trouble. We have your message and will process it automatically as soon as "
        "the system recovers; no need to send it again."
    ),
    "error.too_late": (
        "This command reached us more than 10 minutes after you sent it, so to keep your balance safe we did "
        "not run it. Please send the command again."
    ),
    "error.dead_letter": (
        "Sorry, we could not process your message and the admins have been told. "
        "Please try again later or contact the shop's admin."
    ),
    "error.payment_unavailable": "Link payments are unavailable right now, please try again shortly.",
    "error.links_off": "Link payments are not enabled in this shop. Please use your balance.",
    "error.out_of_stock": "Not enough stock of {code} ({left} left).",
    "error.insufficient": "Insufficient balance. Balance: {balance}, total: {total}.",
    "error.qty": "Quantity must be 1 to {max}.",
    "error.amount": "Invalid amount. Examples: 50000, 50.000, 50rb or 50k.",
    "error.deposit_range": "Top-up amount must be between {min} and {max}.",
    "error.order_not_found": "Order {order_id} not found.",
    "error.no_pending": "No payment is waiting.",
    "error.nothing_to_resend": "No paid order to send again yet.",
    "error.not_cancellable": "Order {order_id} cannot be cancelled (status {status}).",
    "error.phone": "Number {number} is invalid. Use 08..., +62... or 62....",
    "error.code": "Product codes are letters and digits only.",
    "error.field": "Invalid field. Choose one of: {fields}.",
    "error.name": "A product name has 1 to 100 characters.",
    "error.setting": "Invalid setting. Keys: {keys}.",
    "error.duplicate_code": "Code {code} already exists.",
    "error.stock_kind_items": "Product {code} uses stock items: add one item per line, not a number.",
    "error.stock_kind_count": "Product {code} counts stock: use .addstok {code} QTY.",
    "error.stock_items": "Items refused: {blank} blank lines, {duplicates} duplicates. Nothing was added.",
    "error.illegal": "The order status cannot be changed.",
    "usage.produk": "Usage: .products [CODE]",
    "usage.buy": "Usage: .buy CODE [QTY] [saldo|link]\nExample: .buy NF1 2",
    "usage.deposit": "Usage: .topup AMOUNT\nExample: .topup 50k",
    "usage.status": "Usage: .status ORDER_ID",
    "usage.batal": "Usage: .cancel [ORDER_ID]",
    "usage.kirimulang": "Usage: .resend [ORDER_ID]",
    "usage.bahasa": "Usage: .language id|en",
    "language.set": "OK, replies are now in English.",
    "usage.addproduk": _ID["usage.addproduk"],
    "usage.setharga": _ID["usage.setharga"],
    "usage.addstok": "Usage: .addstok CODE QTY, or .addstok CODE followed by one item per line",
    "usage.setstok": _ID["usage.setstok"],
    "usage.cekstok": _ID["usage.cekstok"],
    "usage.setrole": "Usage: .setrole NUMBER bronze|silver|gold",
    "usage.hapusproduk": _ID["usage.hapusproduk"],
    "usage.addsaldo": "Usage: .addsaldo NUMBER AMOUNT",
    "usage.kurangsaldo": "Usage: .kurangsaldo NUMBER AMOUNT",
    "usage.setproduk": "Usage: .setproduk CODE FIELD VALUE\nFields: {fields}",
    "usage.pesanan": _ID["usage.pesanan"],
    "usage.rekap": "Usage: .rekap [DAYS] (1-365)",
    "usage.setting": "Usage: .setting KEY VALUE\nKeys: {keys}",
    "admin.product_added": "Product {code} added: {name}, {price}, stock {stock}.",
    "admin.product_reactivated": "Product {code} reactivated: {name}, {price}, stock {stock}.",
    "admin.price_set": "Price of {code} is now {price}.",
    "admin.stock_set": "Stock of {code} is now {stock}.",
    "admin.items_added": "{added} items added to {code}. Stock now {stock}.",
    "admin.stock_count": "Stock of {code}: {stock} left.",
    "admin.role_set": "Tier of {number} is now {tier}.{new}",
    "admin.new_customer": " (new number, never chatted)",
    "admin.product_removed": "Product {code} deactivated.",
    "admin.balance_added": "Balance of {number} +{amount} → {balance}.{new}",
    "admin.balance_taken": "Balance of {number} -{amount} → {balance}.",
    "admin.field_set": "{field} of {code} updated.",
    "admin.orders_header": "*Recent orders*",
    "admin.orders_row": _ID["admin.orders_row"],
    "admin.orders_empty": "No orders.",
    "admin.report": (
        "*Report, {days} days* (since {since})\nPaid orders: {orders}\nRevenue: {revenue}\n"
        "Top-ups: {topups} ({topup_total})\nBest sellers:\n{top}"
    ),
    "admin.report_top": "• {code} — {qty} sold",
    "admin.report_none": "• -",
    "admin.setting_set": "Setting {key} = {value}.",
    "alert.low_stock": "⚠️ Stock of {code} ({name}) is down to {stock}.",
    "alert.late_paid": "ℹ️ Late payment for {order_id} received and processed as PAID.",
    "alert.late_credited": "⚠️ Late payment {order_id} ({amount}) credited to {user}'s balance: not enough stock.",
    "alert.amount_mismatch": "🚨 Payment notification {order_id}: amount {paid} ≠ total {total}. Nothing changed.",
    "alert.unknown_order": "🚨 Payment notification for unknown order {order_id}.",
    "alert.deny_after_paid": "🚨 Order {order_id} is PAID but the payment provider reports {state}. Check it by hand.",
    "alert.ledger_mismatch": "🚨 Balance of {subject} is {actual} but its ledger sums to {expected}. Check it by hand.",
    "alert.stock_mismatch": "🚨 Stock of {subject} is {actual} but {expected} items are left. Check it by hand.",
    "alert.undelivered": "🚨 Order {subject} is PAID but holds only {actual} of {expected} items. Check it by hand.",
    "alert.dead_letter": (
        "🚨 Message {message_id} from {sender} failed {runs} times and was given up: \"{excerpt}\". "
        "The customer was told; see the list at /api/v1/dead-letters."
    ),
    "status.PENDING": "waiting for payment",
    "status.PAID": "paid",
    "status.EXPIRED": "expired",
    "status.CANCELLED": "cancelled",
    "status.FAILED": "failed",
    "status.REFUNDED": "refunded",
    "method.saldo": "balance",
    "method.midtrans": "payment link",
}

CATALOG: Final[dict[str, dict[str, str]]] = {"id": _ID, "en": _EN}


def text(key: str, lang: str = "id", /, **params: object) -> str:
    """The message `key` in `lang` (falling back to Indonesian), with its placeholders filled."""
    template = CATALOG.get(lang, _ID).get(key) or _ID[key]
    return template.format(**params)
