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
        ".buy KODE [JUMLAH] [saldo|link|qris] — beli\n"
        ".saldo — cek saldo\n"
        ".deposit NOMINAL [link|qris] — isi saldo\n"
        ".riwayat — 10 transaksi terakhir\n"
        ".status [ORDER_ID] — cek pesanan (tanpa ID: yang terakhir)\n"
        ".link ORDER_ID — link bayar pesanan\n"
        ".batal — batalkan pembayaran yang menunggu\n"
        ".kirimulang [ORDER_ID] — kirim ulang pesanan\n"
        ".admin PESAN — hubungi admin\n"
        ".bahasa id|en — bahasa balasan"
    ),
    "menu.admin": (
        "*Admin*\n"
        ".addproduk KODE|Nama|Harga|Stok[|Deskripsi]\n"
        ".setharga KODE HARGA · .setproduk KODE FIELD NILAI\n"
        ".addstok KODE JUMLAH · .setstok KODE JUMLAH · .addstok KODE + baris item\n"
        ".cekstok KODE · .hapusproduk KODE\n"
        ".addsaldo NOMOR NOMINAL · .kurangsaldo NOMOR NOMINAL · .setrole NOMOR TIER\n"
        ".pesanan [STATUS] · .rekap [HARI] · .setting KEY VALUE\n"
        ".pesanan perlu · .kirim ORDER_ID + isi · .balas NOMOR PESAN · .ok ALERT_ID"
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
    "buy.qris": "🧾 Order {order_id}\n{qty}x {name} = *{total}*\nBayar dengan QRIS sebelum {until}.\n\n{how}",
    "deposit.qris": "💳 Isi saldo *{total}*\nOrder: {order_id}\nBayar dengan QRIS sebelum {until}.\n\n{how}",
    "qris.how": (
        "Cara bayar: scan QR ini dengan aplikasi bank atau e-wallet apa pun yang mendukung QRIS. "
        "Kalau QR ini terbuka di HP yang sama, screenshot gambarnya lalu unggah lewat menu scan di aplikasimu."
    ),
    "qris.fallback": (
        "🧾 Order {order_id} · {total}\nGambar QR tidak bisa dikirim. Buka link ini untuk melihat QR-nya, "
        "lalu scan atau screenshot dan unggah di aplikasi bank/e-wallet sebelum {until}:\n{url}"
    ),
    "qris.no_image": (
        "🧾 Order {order_id} · {total}\nGambar QR tidak bisa dikirim. Ketik .batal {order_id}, lalu bayar "
        "lewat link: tambahkan kata link di akhir perintah beli atau deposit."
    ),
    "link.pay": "Link bayar order {order_id} ({total}), berlaku sampai {until}:\n{url}",
    "link.missing": "Order {order_id} belum punya link bayar. Coba lagi sebentar dengan .status {order_id}.",
    "link.not_pending": "Order {order_id} tidak menunggu pembayaran (status {status}).",
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
    "order.refunded": "↩️ Order {order_id}: {amount} dikembalikan dananya kepadamu oleh penyedia pembayaran.",
    "order.reversed": "↩️ Pembayaran order {order_id} sebesar {amount} ditarik kembali oleh penyedia pembayaran.",
    "order.reversed_credit": (
        "↩️ Pembayaran order {order_id} ({amount}) ditarik kembali oleh penyedia pembayaran, "
        "jadi saldo yang berasal darinya kami kurangi {taken}. Saldo sekarang: {balance}"
    ),
    "payment.mismatch_credited": (
        "Pembayaran order {order_id} masuk {amount}, tidak sama dengan totalnya {total}, jadi pesanan "
        "tidak kami proses. Dana {amount} sudah masuk ke saldo kamu. Saldo sekarang: {balance}"
    ),
    "cancel.done": "Order {order_id} dibatalkan.",
    "history.header": "*Riwayat transaksi*",
    "history.row": "{when} · {order_id} · {what} · {total} · {status}",
    "history.topup": "isi saldo",
    "history.empty": "Belum ada transaksi.",
    "status": "Order {order_id}\n{what}\nTotal: {total}\nMetode: {method}\nStatus: *{status}*\nDibuat: {created}",
    "status.pay_link": "Link bayar: {url}",
    "resend.header": "Kirim ulang:",
    "error.unknown_command": "Perintah tidak dikenal. Ketik .menu untuk daftar perintah.",
    "error.unsupported_media": "Maaf, kirim perintah dalam bentuk teks ya. Ketik .menu untuk daftar perintah.",
    "error.rate_limited": "Terlalu banyak permintaan. Coba lagi dalam {seconds} detik.",
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
    "error.qris_unavailable": (
        "QRIS sedang tidak bisa dibuat, coba lagi sebentar. Atau bayar lewat link: tambahkan kata link "
        "di akhir perintah (contoh: .buy NF1 link atau .deposit 50rb link)."
    ),
    "error.out_of_stock": "Stok {code} tidak cukup (sisa {left}).",
    "error.insufficient": "Saldo tidak cukup. Saldo: {balance}, total: {total}, kurang {missing}.",
    "error.insufficient_offer": "Isi saldo dulu: .deposit {amount}",
    "error.item_format": "Format item: 1-8 nama kolom dipisah |, misalnya email|password|profil|pin (atau - untuk tanpa format).",
    "confirm.buy": "Beli {qty}x {name} ({code}) seharga {total}, {method}.{after}\nBalas *ya* untuk membeli, atau *batal*.",
    "confirm.by_saldo": "dibayar dengan saldo",
    "confirm.by_link": "dibayar lewat link pembayaran",
    "confirm.saldo_after": " Saldo setelahnya: {balance}.",
    "confirm.cancel": "Batalkan pembayaran yang sedang menunggu? Balas *ya* untuk membatalkan, atau *batal* untuk tidak jadi.",
    "confirm.dropped": "Oke, tidak jadi. Tidak ada yang berubah.",
    "confirm.yes": "Ya",
    "confirm.no": "Batal",
    "pick.out_of_range": "Pilih nomor 1 sampai {count}.",
    "phrase.no_match": "Produk \"{words}\" tidak ada. Ketik *produk* untuk melihat semua produk.",
    "phrase.which": "Produk mana yang kamu maksud dengan \"{words}\"? Balas nomornya:",
    "phrase.which_title": "Pilih produk",
    "phrase.choice_row": "{n}. {code} — {name} · {price}",
    "hint.short": "Ketik *menu* untuk melihat perintah, atau *produk* untuk melihat produk.",
    "repeat.ask": (
        "Kamu baru saja membeli {qty}x {code} (order {order_id}). Beli lagi? "
        "Balas *ya* dalam 2 menit untuk membeli lagi, atau *batal*."
    ),
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
    "error.setting_key": "Setting {key} tidak dikenal. Ketik .setting untuk melihat semua setting dan nilainya.",
    "error.setting_range": "Nilai {value} tidak bisa untuk {key}: harus angka {low} sampai {high}.",
    "error.setting_choice": "Nilai {value} tidak bisa untuk {key}: pilih {choices}.",
    "error.setting_text": "Nilai untuk {key} harus 1 sampai {high} karakter.",
    "error.setting_deposit": "`deposit_min` ({low}) tidak boleh lebih besar dari `deposit_max` ({high}).",
    "error.duplicate_code": "Kode {code} sudah ada.",
    "error.stock_kind_items": "Produk {code} memakai item stok: tambahkan item per baris, bukan angka.",
    "error.stock_kind_count": "Produk {code} memakai stok angka: gunakan .addstok {code} JUMLAH.",
    "error.stock_items": "Item ditolak: {blank} baris kosong, {duplicates} duplikat. Tidak ada yang ditambahkan.",
    "error.stock_item_row": "• baris {number}{item}: {reason}",
    "error.stock_item_more": "• dan {more} baris lain",
    "error.stock_item_blank": "kosong",
    "error.stock_item_repeated": "dobel di pesan ini",
    "error.stock_item_in_stock": "sudah ada di stok",
    "error.illegal": "Status order tidak bisa diubah.",
    "usage.produk": "Format: .produk [KODE]\nContoh: .produk {code}",
    "usage.buy": "Format: .buy KODE [JUMLAH] [saldo|link|qris]\nContoh: .buy {code} 2",
    "usage.deposit": "Format: .deposit NOMINAL [link|qris]\nContoh: .deposit 50rb",
    "usage.link": "Format: .link ORDER_ID",
    "usage.status": "Format: .status [ORDER_ID]",
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
    "usage.pesanan": "Format: .pesanan [perlu|menunggu|lunas|kedaluwarsa|batal|gagal|dikembalikan]",
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
    "admin.orders_row": "{when} · {order_id} · {user} · {what} · {total} · {status}",
    "admin.orders_empty": "Tidak ada pesanan.",
    "admin.report": (
        "*Rekap {days} hari* (sejak {since})\nPesanan lunas: {orders}\nPendapatan: {revenue}\n"
        "Top-up: {topups} ({topup_total})\nRefund: {refunds} ({refund_total})\n"
        "Chargeback/batal: {chargebacks} ({chargeback_total})\nBersih: {net}\nProduk terlaris:\n{top}"
    ),
    "admin.report_top": "• {code} — {qty} terjual",
    "admin.report_none": "• -",
    "admin.setting_set": "Setting {key} = {value}.",
    "admin.settings_header": "*Setting toko*",
    "admin.settings_row": "• {key} = {value} ({allowed})",
    "admin.settings_footer": "Ubah: .setting KEY VALUE",
    "admin.setting_range": "angka {low}-{high}",
    "admin.setting_text": "teks, maks. {high} karakter",
    "admin.setting_empty": "(kosong)",
    "alert.low_stock": "⚠️ Stok {code} ({name}) tinggal {stock}.",
    "alert.late_paid": "ℹ️ Pembayaran terlambat untuk {order_id} diterima dan diproses sebagai PAID.",
    "alert.late_credited": "⚠️ Pembayaran terlambat {order_id} ({amount}) dimasukkan ke saldo {user}: stok tidak cukup.",
    "alert.amount_mismatch": (
        "🚨 Pembayaran {order_id}: masuk {paid}, totalnya {total}. Order digagalkan, stok dikembalikan, "
        "{paid} masuk ke saldo pembeli."
    ),
    "alert.unknown_order": "🚨 Midtrans melaporkan {state} ({amount}) untuk order tidak dikenal {order_id}. Periksa manual.",
    "alert.payment_review": "🔎 Pembayaran kartu {order_id} ditahan Midtrans untuk ditinjau (challenge). Setujui atau tolak di dashboard Midtrans.",
    "alert.payment_needs_action": "🚨 Midtrans melaporkan {state} ({amount}) untuk order {order_id} yang tidak memegang dana itu. Periksa manual.",
    "alert.reversed_after_delivery": (
        "🚨 {kind} {amount} untuk order {order_id} ({user}) yang barangnya sudah dikirim. "
        "Barang tidak bisa ditarik; periksa manual."
    ),
    "alert.reversed_credit": (
        "⚠️ {kind} {amount} untuk order {order_id} ({user}): saldo pembeli dikurangi {taken}, "
        "kekurangan {short}."
    ),
    "alert.ledger_mismatch": "🚨 Saldo {subject} = {actual}, tetapi jumlah mutasinya {expected}. Periksa manual.",
    "alert.stock_mismatch": "🚨 Stok {subject} = {actual}, tetapi item tersisa {expected}. Periksa manual.",
    "alert.undelivered": "🚨 Order {subject} PAID tetapi hanya {actual} dari {expected} item tercatat. Periksa manual.",
    "alert.dead_letter": (
        "🚨 Pesan {message_id} dari {sender} gagal diproses {runs} kali dan dihentikan: \"{excerpt}\". "
        "Pelanggan sudah diberi tahu; lihat daftar di /api/v1/dead-letters."
    ),
    'alert.ack_hint': 'Tandai selesai: .ok {alert_id}',
    'alert.manual_order': '🛒 Pesanan {order_id} lunas dan menunggu kamu kirim:\n{qty}x {name} ({code})\nPembeli: {user}\nKirim dengan:\n.kirim {order_id}\nISI PESANAN (boleh beberapa baris)',
    'alert.transport_down': '🚨 WhatsApp ({transport}) terputus atau keluar: pesan menunggu di antrean sampai tersambung lagi.',
    'alert.customer_unreachable': (
        '⏸️ Pesan untuk pelanggan {number} ditahan: WhatsApp menolaknya karena pelanggan tidak menulis '
        'ke toko dalam 24 jam terakhir. Pesan itu terkirim otomatis begitu pelanggan menulis lagi; '
        'hubungi dia lewat wa.me/{number} bila perlu.'
    ),
    'alert.admins_unreachable': (
        '📵 Admin {number} tidak bisa dihubungi lewat WhatsApp: tidak menulis ke nomor toko dalam 24 jam, '
        'jadi Meta menolak pesan untuknya. Pesan ditahan dan terkirim begitu admin itu menulis ke nomor toko. '
        'Agar peringatan selalu sampai, atur WHATSAPP_ALERT_TEMPLATE (template yang disetujui Meta).'
    ),
    'transport.back': '✅ WhatsApp ({transport}) tersambung lagi; pesan yang tertunda sedang dikirim.',
    'reminder.manual_order': '⏰ Pesanan {order_id} ({qty}x {name}) untuk {user} masih menunggu dikirim (lunas {paid}).\nKirim dengan: .kirim {order_id} lalu isi pesanan',
    'order.waiting_seller': '📦 Pesanan {order_id} ({qty}x {name}) sudah lunas dan sedang disiapkan admin. Kamu akan menerimanya di chat ini.',
    'status.waiting_seller': 'lunas, menunggu dikirim admin',
    'error.already_delivered': 'Pesanan {order_id} sudah dikirim pada {at}.',
    'error.not_waiting': 'Pesanan {order_id} tidak sedang menunggu dikirim (status: {status}).',
    'error.awaiting_seller': 'Pesanan {order_id} sudah lunas dan sedang disiapkan admin. Kamu akan menerimanya di chat ini.',
    'error.manual_items': 'Produk {code} memakai item stok, yang selalu dikirim otomatis; kirim manual hanya untuk stok angka.',
    'error.between_admins': '{number} adalah admin: pesan antar admin tidak diteruskan.',
    'error.empty_message': 'Pesannya kosong.',
    'admin.waiting_header': '*Pesanan menunggu dikirim* (terlama dulu)',
    'admin.waiting_row': '{order_id} · {user} · {qty}x {code} · lunas {paid}',
    'admin.waiting_empty': 'Tidak ada pesanan yang menunggu dikirim.',
    'admin.delivered': '✅ Pesanan {order_id} terkirim ke {user}.',
    'admin.reply_sent': 'Terkirim ke {number}.',
    'admin.alert_acknowledged': 'Peringatan {alert_id} ditandai selesai.',
    'admin.alert_not_open': 'Tidak ada peringatan terbuka bernomor {alert_id}.',
    'support.forwarded': '💬 Pesan dari {user}:\n{text}\n\nBalas: .balas {user} PESAN',
    'support.sent': 'Pesanmu sudah diteruskan ke admin. Balasannya akan datang di chat ini.',
    'support.limited': 'Kamu sudah mengirim 3 pesan ke admin dalam satu jam. Tunggu balasan admin ya.',
    'support.reply': '💬 *{shop}*:\n{text}',
    'usage.admin': 'Format: .admin PESAN\nContoh: .admin pesanan saya belum masuk',
    'usage.kirim': 'Format: .kirim ORDER_ID lalu isi pesanan (di baris yang sama atau berikutnya)\nContoh:\n.kirim INV-20261201-ABCDEFGHJKLM\nLink undangan: https://...',
    'usage.balas': 'Format: .balas NOMOR PESAN\nContoh: .balas 081234567890 Sudah kami kirim ya',
    'usage.ok': 'Format: .ok ALERT_ID',
    "demo.pay_done": "🧪 Simulator: pembayaran {order_id} sudah dibayar ({status}).",
    "demo.pay_not_demo": (
        ".bayar hanya ada di mode demo (simulator pembayaran). Di toko ini pembayaran berjalan lewat "
        "penyedia pembayaran sungguhan: bayar lewat link yang dikirim bot."
    ),
    "demo.pay_nothing": "Tidak ada pembayaran menunggu untuk nomor ini. Buat dulu dengan .buy KODE link atau .deposit NOMINAL.",
    "demo.pay_unknown": "Tidak ada pembayaran menunggu dengan ID {order_id} untuk nomor ini. Cek .riwayat.",
    "demo.pay_refused": "🧪 Simulator: pembayaran {order_id} tidak diterima toko ({status}). Cek .status {order_id}.",
    "status.PENDING": "menunggu pembayaran",
    "status.PAID": "lunas",
    "status.EXPIRED": "kedaluwarsa",
    "status.CANCELLED": "dibatalkan",
    "status.FAILED": "gagal",
    "status.REFUNDED": "dikembalikan",
    "method.saldo": "saldo",
    "method.midtrans": "link pembayaran",
    "method.qris": "QRIS",
}

_EN: dict[str, str] = {
    "menu.header": "*{shop}*\n{welcome}",
    "menu.welcome": "Welcome! Type one of the commands below to shop.",
    "menu.customer": (
        "*Commands*\n"
        ".products — product list\n"
        ".products CODE — product details\n"
        ".buy CODE [QTY] [saldo|link|qris] — buy\n"
        ".balance — your balance\n"
        ".topup AMOUNT [link|qris] — top up your balance\n"
        ".history — last 10 transactions\n"
        ".status [ORDER_ID] — check an order (no ID: the latest)\n"
        ".link ORDER_ID — an order's payment link\n"
        ".cancel — cancel a pending payment\n"
        ".resend [ORDER_ID] — send an order again\n"
        ".admin MESSAGE — contact the admin\n"
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
    "buy.qris": "🧾 Order {order_id}\n{qty}x {name} = *{total}*\nPay with QRIS before {until}.\n\n{how}",
    "deposit.qris": "💳 Top-up *{total}*\nOrder: {order_id}\nPay with QRIS before {until}.\n\n{how}",
    "qris.how": (
        "How to pay: scan this QR with any bank or e-wallet app that supports QRIS. "
        "If it is open on the same phone, take a screenshot and upload it in your app's scan screen."
    ),
    "qris.fallback": (
        "🧾 Order {order_id} · {total}\nThe QR picture could not be sent. Open this link to see the QR, "
        "then scan it, or screenshot it and upload it in your bank/e-wallet app, before {until}:\n{url}"
    ),
    "qris.no_image": (
        "🧾 Order {order_id} · {total}\nThe QR picture could not be sent. Type .cancel {order_id}, then pay "
        "with a link: add the word link at the end of your buy or top-up command."
    ),
    "link.pay": "Payment link for order {order_id} ({total}), valid until {until}:\n{url}",
    "link.missing": "Order {order_id} has no payment link yet. Try .status {order_id} in a moment.",
    "link.not_pending": "Order {order_id} is not waiting for payment (status {status}).",
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
    "order.refunded": "↩️ Order {order_id}: {amount} was refunded to you by the payment provider.",
    "order.reversed": "↩️ {amount} of the payment for order {order_id} was taken back by the payment provider.",
    "order.reversed_credit": (
        "↩️ The payment for order {order_id} ({amount}) was taken back by the payment provider, "
        "so we took {taken} of the balance it became back. Balance now: {balance}"
    ),
    "payment.mismatch_credited": (
        "The payment for order {order_id} was {amount}, not its total of {total}, so the order was not "
        "processed. The {amount} went to your balance. Balance now: {balance}"
    ),
    "cancel.done": "Order {order_id} cancelled.",
    "history.header": "*Transaction history*",
    "history.row": "{when} · {order_id} · {what} · {total} · {status}",
    "history.topup": "top-up",
    "history.empty": "No transactions yet.",
    "status": "Order {order_id}\n{what}\nTotal: {total}\nMethod: {method}\nStatus: *{status}*\nCreated: {created}",
    "status.pay_link": "Payment link: {url}",
    "resend.header": "Sent again:",
    "error.unknown_command": "Unknown command. Type .menu for the list of commands.",
    "error.unsupported_media": "Sorry, please send commands as text. Type .menu for the list of commands.",
    "error.rate_limited": "Too many requests. Try again in {seconds} seconds.",
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
    "error.qris_unavailable": (
        "QRIS cannot be created right now, please try again shortly. Or pay with a link: add the word link "
        "at the end of the command (for example .buy NF1 link or .topup 50k link)."
    ),
    "error.out_of_stock": "Not enough stock of {code} ({left} left).",
    "error.insufficient": "Insufficient balance. Balance: {balance}, total: {total}, {missing} short.",
    "error.insufficient_offer": "Top up first: .topup {amount}",
    "error.item_format": "Item format: 1-8 field names separated by |, e.g. email|password|profile|pin (or - for none).",
    "confirm.buy": "Buy {qty}x {name} ({code}) for {total}, {method}.{after}\nReply *yes* to buy, or *cancel*.",
    "confirm.by_saldo": "paid from your balance",
    "confirm.by_link": "paid through a payment link",
    "confirm.saldo_after": " Balance after: {balance}.",
    "confirm.cancel": "Cancel the payment that is waiting? Reply *yes* to cancel it, or *cancel* to keep it.",
    "confirm.dropped": "Okay, never mind. Nothing changed.",
    "confirm.yes": "Yes",
    "confirm.no": "Cancel",
    "pick.out_of_range": "Pick a number from 1 to {count}.",
    "phrase.no_match": "There is no product \"{words}\". Type *products* to see them all.",
    "phrase.which": "Which product do you mean by \"{words}\"? Reply with its number:",
    "phrase.which_title": "Pick a product",
    "phrase.choice_row": "{n}. {code} — {name} · {price}",
    "hint.short": "Type *menu* for the commands, or *products* for what we sell.",
    "repeat.ask": (
        "You just bought {qty}x {code} (order {order_id}). Buy again? "
        "Reply *yes* within 2 minutes to buy again, or *cancel*."
    ),
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
    "error.setting_key": "Unknown setting {key}. Send .setting to see every setting and its value.",
    "error.setting_range": "Value {value} does not fit {key}: it must be a number from {low} to {high}.",
    "error.setting_choice": "Value {value} does not fit {key}: choose {choices}.",
    "error.setting_text": "The value for {key} must be 1 to {high} characters.",
    "error.setting_deposit": "`deposit_min` ({low}) cannot be above `deposit_max` ({high}).",
    "error.duplicate_code": "Code {code} already exists.",
    "error.stock_kind_items": "Product {code} uses stock items: add one item per line, not a number.",
    "error.stock_kind_count": "Product {code} counts stock: use .addstok {code} QTY.",
    "error.stock_items": "Items refused: {blank} blank lines, {duplicates} duplicates. Nothing was added.",
    "error.stock_item_row": "• line {number}{item}: {reason}",
    "error.stock_item_more": "• and {more} more lines",
    "error.stock_item_blank": "blank",
    "error.stock_item_repeated": "twice in this message",
    "error.stock_item_in_stock": "already in stock",
    "error.illegal": "The order status cannot be changed.",
    "usage.produk": "Usage: .products [CODE]\nExample: .products {code}",
    "usage.buy": "Usage: .buy CODE [QTY] [saldo|link|qris]\nExample: .buy {code} 2",
    "usage.deposit": "Usage: .topup AMOUNT [link|qris]\nExample: .topup 50k",
    "usage.link": "Usage: .link ORDER_ID",
    "usage.status": "Usage: .status [ORDER_ID]",
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
    "usage.pesanan": "Usage: .pesanan [perlu|pending|paid|expired|cancelled|failed|refunded]",
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
        "Top-ups: {topups} ({topup_total})\nRefunds: {refunds} ({refund_total})\n"
        "Chargebacks/cancellations: {chargebacks} ({chargeback_total})\nNet: {net}\nBest sellers:\n{top}"
    ),
    "admin.report_top": "• {code} — {qty} sold",
    "admin.report_none": "• -",
    "admin.setting_set": "Setting {key} = {value}.",
    "admin.settings_header": "*Shop settings*",
    "admin.settings_row": "• {key} = {value} ({allowed})",
    "admin.settings_footer": "Change: .setting KEY VALUE",
    "admin.setting_range": "number {low}-{high}",
    "admin.setting_text": "text, up to {high} characters",
    "admin.setting_empty": "(empty)",
    "alert.low_stock": "⚠️ Stock of {code} ({name}) is down to {stock}.",
    "alert.late_paid": "ℹ️ Late payment for {order_id} received and processed as PAID.",
    "alert.late_credited": "⚠️ Late payment {order_id} ({amount}) credited to {user}'s balance: not enough stock.",
    "alert.amount_mismatch": (
        "🚨 Payment {order_id}: {paid} came in, its total is {total}. The order failed, its stock was "
        "released and {paid} went to the buyer's balance."
    ),
    "alert.unknown_order": "🚨 Midtrans reports {state} ({amount}) for an unknown order {order_id}. Check it by hand.",
    "alert.payment_review": "🔎 Card payment {order_id} is held by Midtrans for review (challenge). Accept or deny it in the Midtrans dashboard.",
    "alert.payment_needs_action": "🚨 Midtrans reports {state} ({amount}) for order {order_id}, which holds none of that money. Check it by hand.",
    "alert.reversed_after_delivery": (
        "🚨 {kind} of {amount} for order {order_id} ({user}), whose goods were delivered. "
        "They cannot be taken back; check it by hand."
    ),
    "alert.reversed_credit": (
        "⚠️ {kind} of {amount} for order {order_id} ({user}): took {taken} from the buyer's balance, "
        "{short} short."
    ),
    "alert.ledger_mismatch": "🚨 Balance of {subject} is {actual} but its ledger sums to {expected}. Check it by hand.",
    "alert.stock_mismatch": "🚨 Stock of {subject} is {actual} but {expected} items are left. Check it by hand.",
    "alert.undelivered": "🚨 Order {subject} is PAID but holds only {actual} of {expected} items. Check it by hand.",
    "alert.dead_letter": (
        "🚨 Message {message_id} from {sender} failed {runs} times and was given up: \"{excerpt}\". "
        "The customer was told; see the list at /api/v1/dead-letters."
    ),
    'alert.ack_hint': 'Mark done: .ok {alert_id}',
    'alert.manual_order': '🛒 Order {order_id} is paid and waits for you to deliver it:\n{qty}x {name} ({code})\nBuyer: {user}\nDeliver with:\n.kirim {order_id}\nTHE GOODS (one or more lines)',
    'alert.transport_down': '🚨 WhatsApp ({transport}) is disconnected or logged out: messages wait in the outbox until it is back.',
    'alert.customer_unreachable': (
        '⏸️ A message to customer {number} is held: WhatsApp refused it because the customer has not '
        'written to the shop in the last 24 hours. It goes out by itself as soon as they write again; '
        'reach them at wa.me/{number} if needed.'
    ),
    'alert.admins_unreachable': (
        '📵 Admin {number} cannot be reached on WhatsApp: they have not written to the shop\'s number in '
        '24 hours, so Meta refuses messages to them. Their messages are held and go out once they write '
        'to the shop\'s number. For alerts that always arrive, set WHATSAPP_ALERT_TEMPLATE (a template '
        'Meta approved).'
    ),
    'transport.back': '✅ WhatsApp ({transport}) is connected again; waiting messages are going out.',
    'reminder.manual_order': '⏰ Order {order_id} ({qty}x {name}) for {user} still waits to be delivered (paid {paid}).\nDeliver with: .kirim {order_id} and the goods',
    'order.waiting_seller': '📦 Order {order_id} ({qty}x {name}) is paid and the admin is preparing it. You will receive it in this chat.',
    'status.waiting_seller': 'paid, waiting to be delivered by the admin',
    'error.already_delivered': 'Order {order_id} was already delivered on {at}.',
    'error.not_waiting': 'Order {order_id} is not waiting to be delivered (status: {status}).',
    'error.awaiting_seller': 'Order {order_id} is paid and the admin is preparing it. You will receive it in this chat.',
    'error.manual_items': 'Product {code} uses stock items, which are always delivered at once; manual delivery is for counted stock only.',
    'error.between_admins': '{number} is an admin: messages between admins are not forwarded.',
    'error.empty_message': 'The message is empty.',
    'admin.waiting_header': '*Orders waiting to be delivered* (oldest first)',
    'admin.waiting_row': '{order_id} · {user} · {qty}x {code} · paid {paid}',
    'admin.waiting_empty': 'No order is waiting to be delivered.',
    'admin.delivered': '✅ Order {order_id} delivered to {user}.',
    'admin.reply_sent': 'Sent to {number}.',
    'admin.alert_acknowledged': 'Alert {alert_id} marked done.',
    'admin.alert_not_open': 'No open alert numbered {alert_id}.',
    'support.forwarded': '💬 Message from {user}:\n{text}\n\nAnswer: .balas {user} MESSAGE',
    'support.sent': 'Your message was passed on to the admin. The answer will come in this chat.',
    'support.limited': "You have sent 3 messages to the admin within an hour. Please wait for the admin's answer.",
    'support.reply': '💬 *{shop}*:\n{text}',
    'usage.admin': 'Usage: .admin MESSAGE\nExample: .admin my order has not arrived',
    'usage.kirim': 'Usage: .kirim ORDER_ID followed by the goods (same line or the next ones)\nExample:\n.kirim INV-20261201-ABCDEFGHJKLM\nInvite link: https://...',
    'usage.balas': 'Usage: .balas NUMBER MESSAGE\nExample: .balas 081234567890 We have sent it',
    'usage.ok': 'Usage: .ok ALERT_ID',
    "demo.pay_done": "🧪 Simulator: payment {order_id} has been paid ({status}).",
    "demo.pay_not_demo": (
        ".bayar exists only in demo mode (the payment simulator). This shop takes payments through a real "
        "payment provider: pay with the link the bot sent."
    ),
    "demo.pay_nothing": "No payment is waiting for this number. Make one first with .buy CODE link or .deposit AMOUNT.",
    "demo.pay_unknown": "No payment with id {order_id} is waiting for this number. See .history.",
    "demo.pay_refused": "🧪 Simulator: the shop did not take payment {order_id} ({status}). See .status {order_id}.",
    "status.PENDING": "waiting for payment",
    "status.PAID": "paid",
    "status.EXPIRED": "expired",
    "status.CANCELLED": "cancelled",
    "status.FAILED": "failed",
    "status.REFUNDED": "refunded",
    "method.saldo": "balance",
    "method.midtrans": "payment link",
    "method.qris": "QRIS",
}

CATALOG: Final[dict[str, dict[str, str]]] = {"id": _ID, "en": _EN}


def text(key: str, lang: str = "id", /, **params: object) -> str:
    """The message `key` in `lang` (falling back to Indonesian), with its placeholders filled."""
    template = CATALOG.get(lang, _ID).get(key) or _ID[key]
    return template.format(**params)
