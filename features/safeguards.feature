@safeguards
Feature: Safeguards against floods, double taps and redeliveries
  WhatsApp may deliver a message twice, customers tap twice, and some send too much. The shop
  answers each message once, lets one transaction of a customer run at a time, keeps at most
  one unpaid order per customer and slows down floods.

  Background:
    Given the shop sells:
      | code | name         | price  | stock |
      | VC   | Voucher 10rb | 10.000 | 20    |
    And Ani has a saldo of 100000

  Scenario: The same WhatsApp message delivered twice is answered once and buys once
    When Ani sends ".buy VC" as message "wamid.DUPLICATE1"
    And Ani sends ".buy VC" as message "wamid.DUPLICATE1"
    Then Ani receives no reply
    And Ani has received 1 message in total
    And Ani is sent 1 message containing "Pembelian berhasil"
    And Ani's saldo is 90000
    And the stock of "VC" is 19

  Scenario: A second tap on the same purchase within a minute asks before buying again
    When Ani sends ".buy VC" as message "wamid.FIRST"
    And Ani sends ".buy VC" as message "wamid.SECOND"
    Then Ani receives a reply containing "Kamu baru saja membeli 1x VC (order {order})"
    And Ani's saldo is 90000
    When Ani sends "ya"
    Then Ani receives a reply containing "Pembelian berhasil"
    And Ani's saldo is 80000
    When Ani sends "ya"
    Then Ani's saldo is 80000

  Scenario: A repeated purchase can be dropped
    When Ani sends ".buy VC"
    And Ani sends ".buy VC"
    And Ani sends "batal"
    Then Ani receives the reply "Oke, tidak jadi. Tidak ada yang berubah."
    And Ani's saldo is 90000

  Scenario: A bare number picks from the list just shown
    When Budi sends ".produk"
    And Budi sends "1"
    Then Budi receives a reply containing "Voucher 10rb"
    And Budi receives a reply containing "VC"

  Scenario: A purchase in words needs a confirmation
    When Ani sends "mau beli voucher 2"
    Then Ani receives a reply containing "Beli 2x Voucher"
    And Ani's saldo is 100000
    When Ani sends "ya"
    Then Ani receives a reply containing "Pembelian berhasil"
    And Ani's saldo is 80000

  Scenario: Typos do not count toward the 3 buys a minute
    When Ani sends ".buy VX"
    And Ani sends ".buy NOPE"
    And Ani sends ".buy VC 0"
    And Ani sends ".buy VC 1"
    And Ani sends ".buy VC 2"
    And Ani sends ".buy VC 3"
    Then Ani is sent 3 messages containing "Pembelian berhasil"

  Scenario: The first message of a conversation is always answered
    When Budi sends "halo kak"
    Then Budi receives a reply containing ".produk"
    When Budi sends "hmm"
    Then Budi receives a reply containing "Ketik *menu*"

  Scenario: Buying is limited to 3 a minute: one warning, then silence
    When Ani sends ".buy VC 1"
    And Ani sends ".buy VC 2"
    And Ani sends ".buy VC 3"
    And Ani sends ".buy VC 1"
    Then Ani receives a reply containing "Terlalu banyak permintaan. Coba lagi dalam"
    When Ani sends ".buy VC 2"
    Then Ani receives no reply
    And Ani's saldo is 40000
    And Ani is sent 3 messages containing "Pembelian berhasil"

  Scenario Outline: Other commands follow the shop's own limit
    Given Admin has sent ".setting rate_limit_per_minute <limit>"
    When Budi sends ".saldo" <limit> times
    And Budi sends ".saldo"
    Then Budi receives a reply containing "Terlalu banyak permintaan. Coba lagi dalam"
    And Budi is sent <limit> messages containing "Saldo kamu"

    Examples:
      | limit |
      | 2     |
      | 5     |

  Scenario: Admins are never rate limited
    When Admin sends ".cekstok VC" 25 times
    Then Admin receives the reply "Stok VC: 20 tersisa."

  Scenario: A transaction already in progress makes the next one wait
    Given Ani already has a "buy" being processed
    When Ani sends ".buy VC"
    Then Ani receives the reply "Transaksi sedang diproses. Tunggu sebentar ya."
    And Ani's saldo is 100000
    When Ani sends ".saldo"
    Then Ani receives the reply "Saldo kamu: *Rp 100.000*"
    When that processing finishes
    And Ani sends ".buy VC"
    Then Ani receives a reply containing "Pembelian berhasil"

  Scenario Outline: One unpaid order at a time
    When Budi sends ".buy VC"
    And Budi sends "<second>"
    Then Budi receives a reply containing "order {order} masih menunggu pembayaran"
    And Budi receives a reply containing ".batal"
    And Budi has 1 order
    And the stock of "VC" is 19

    Examples:
      | second         |
      | .deposit 50000 |
      | .buy VC 2      |
      | .buy VC link   |

  Scenario: After cancelling, a new order is possible
    When Budi sends ".buy VC"
    And Budi sends ".batal"
    And Budi sends ".deposit 50rb"
    Then Budi receives a reply containing "Isi saldo Rp 50.000"
    And Budi has 1 order PENDING

  Scenario: Plain chat gets the menu, at most once per 10 minutes, then a short hint at most once a minute
    When Budi sends "halo kak"
    Then Budi receives a reply containing "*Perintah*"
    When Budi sends "ada netflix?"
    Then Budi receives a reply containing "Ketik *menu*"
    When Budi sends "hmm"
    Then Budi receives no reply

  Scenario: A photo gets a short hint
    When Budi sends a photo
    Then Budi receives the reply "Maaf, kirim perintah dalam bentuk teks ya. Ketik .menu untuk daftar perintah."

  Scenario Outline: Unknown commands get a hint
    When Budi sends "<text>"
    Then Budi receives the reply "Perintah tidak dikenal. Ketik .menu untuk daftar perintah."

    Examples:
      | text       |
      | .beliin VC |
      | /foo       |

  Scenario: A message that keeps failing is given up after 5 runs, told once, and holds nothing up
    Given the command ".riwayat" crashes every time it runs
    When Ani sends ".riwayat" as message "wamid.POISON1", which crashes
    And the unfinished messages are taken up again 4 times
    Then Ani has received 0 messages in total
    When the unfinished messages are taken up again 1 time
    Then Ani is sent 1 message containing "pesan kamu tidak berhasil kami proses"
    And Admin is sent 1 message containing "Pesan wamid.POISON1 dari 6281200000002 gagal diproses 5 kali"
    And the message "wamid.POISON1" of Ani is kept as given up after 5 runs
    When the unfinished messages are taken up again 3 times
    Then Ani has received 1 message in total
    And Admin is sent 1 message containing "wamid.POISON1"
    When Ani sends ".buy VC"
    Then Ani receives a reply containing "Pembelian berhasil"
    And Ani's saldo is 90000
