@admin
Feature: Admin commands in the chat
  The numbers in TOKOWA_ADMIN_NUMBERS run the shop from WhatsApp. Everyone else gets the
  ordinary "unknown command" reply and changes nothing.

  Background:
    Given the shop sells:
      | code | name            | price  | stock |
      | NF1  | Netflix 1 Bulan | 35000  | 0     |
      | VC   | Voucher 10rb    | 10.000 | 20    |
    And "NF1" is stocked with the accounts:
      """
      user1@mail.test|pw1
      user2@mail.test|pw2
      user3@mail.test|pw3
      """
    And Ani has a saldo of 100000

  Scenario Outline: A customer trying an admin command
    When Ani sends "<command>"
    Then Ani receives the reply "Perintah tidak dikenal. Ketik .menu untuk daftar perintah."
    And the stock of "VC" is 20
    And Ani's saldo is 100000

    Examples:
      | command                          |
      | .addproduk X1\|Nama\|1000\|1     |
      | .setharga VC 5000                |
      | .addstok VC 5                    |
      | .setstok VC 1                    |
      | .cekstok VC                      |
      | .setrole 6281300000003 gold      |
      | .hapusproduk VC                  |
      | .addsaldo 6281200000002 10000    |
      | .kurangsaldo 6281200000002 1000  |
      | .setproduk VC nama Baru          |
      | .pesanan                         |
      | .rekap                           |
      | .laporan 7                       |
      | .setting max_qty 5               |

  Scenario: The admin menu is only for admins
    When Admin sends ".menu"
    Then Admin receives a reply containing ".addproduk"
    When Ani sends ".menu"
    Then Ani receives a reply not containing ".addproduk"

  Scenario Outline: Adding a product with any price format
    When Admin sends ".addproduk SP1|Spotify 1 Bulan|<price>|5|Akun individual"
    Then Admin receives the reply "Produk SP1 ditambahkan: Spotify 1 Bulan, <shown>, stok 5."
    When Ani sends ".produk SP1"
    Then Ani receives a reply containing "Akun individual"

    Examples:
      | price  | shown     |
      | 20000  | Rp 20.000 |
      | 20.000 | Rp 20.000 |
      | 20rb   | Rp 20.000 |
      | 20k    | Rp 20.000 |

  Scenario: A product code already in use
    When Admin sends ".addproduk vc|Lain|1000|1"
    Then Admin receives the reply "Kode VC sudah ada."

  Scenario: Changing the price
    When Admin sends ".setharga VC 15rb"
    Then Admin receives the reply "Harga VC sekarang Rp 15.000."
    When Ani sends ".buy VC"
    Then Ani's saldo is 85000

  Scenario Outline: Counted stock
    When Admin sends "<command>"
    Then Admin receives the reply "Stok VC sekarang <stock>."
    And the stock of "VC" is <stock>

    Examples:
      | command        | stock |
      | .addstok VC 5  | 25    |
      | .setstok VC 2  | 2     |
      | .setstok VC 0  | 0     |

  Scenario: Adding accounts, one per line
    When Admin sends:
      """
      .addstok NF1
      user4@mail.test|pw4
      user5@mail.test|pw5
      """
    Then Admin receives the reply "2 item ditambahkan ke NF1. Stok sekarang 5."

  Scenario: Blank and duplicate lines are refused with a count and the lines quoted
    When Admin sends ".addstok NF1\na|1\n\na|1\nb|2"
    Then Admin receives a reply containing "Item ditolak: 1 baris kosong, 1 duplikat. Tidak ada yang ditambahkan."
    And Admin receives a reply containing "• baris 3 `a|1`: dobel di pesan ini"
    And the stock of "NF1" is 3

  Scenario: Checking the stock shows the count, never the accounts
    When Admin sends ".cekstok nf1"
    Then Admin receives the reply "Stok NF1: 3 tersisa."

  Scenario Outline: Adding saldo to any way of writing a number
    When Admin sends ".addsaldo <number> 50rb"
    Then Admin receives a reply containing "Saldo 6285711112222 +Rp 50.000 → Rp 50.000."

    Examples:
      | number           |
      | 0857 1111 2222   |
      | +62 857-1111-2222 |
      | 6285711112222    |

  Scenario: Taking saldo, but never more than there is
    When Admin sends ".kurangsaldo 6281200000002 30.000"
    Then Admin receives the reply "Saldo 6281200000002 -Rp 30.000 → Rp 70.000."
    When Admin sends ".kurangsaldo 6281200000002 80000"
    Then Admin receives the reply "Saldo tidak cukup. Saldo: Rp 70.000, total: Rp 80.000, kurang Rp 10.000."
    And Ani's saldo is 70000

  Scenario: Removing a product hides it but keeps the history
    When Ani sends ".buy VC"
    And Admin sends ".hapusproduk vc"
    Then Admin receives the reply "Produk VC dinonaktifkan."
    When Budi sends ".produk"
    Then Budi receives a reply not containing "VC"
    When Ani sends ".riwayat"
    Then Ani receives a reply containing "1x VC"

  Scenario: Tier prices
    Given Budi has sent ".menu"
    When Admin sends ".setproduk VC harga_gold 8000"
    And Admin sends ".setrole 0813-0000-0003 gold"
    Then Admin receives the reply "Tier 6281300000003 sekarang gold."
    When Budi sends ".produk"
    Then Budi receives a reply containing "Rp 8.000"

  Scenario: Low stock alerts the admin once
    When Admin sends ".setproduk NF1 minstok 2"
    And Ani sends ".buy NF1"
    And Ani sends ".buy NF1"
    Then Admin is sent 1 message containing "Stok NF1 (Netflix 1 Bulan) tinggal 2."

  Scenario: Recent orders, filtered by status
    When Ani sends ".buy VC"
    And Budi sends ".buy VC"
    And Admin sends ".pesanan pending"
    Then Admin receives a reply containing "{order of Budi}"
    And Admin receives a reply not containing "{order of Ani}"

  Scenario: Today's report
    When Ani sends ".buy VC 2"
    And Budi sends ".deposit 30rb"
    And Budi pays the last order
    And Admin sends ".rekap"
    Then Admin receives a reply containing "Pesanan lunas: 1"
    And Admin receives a reply containing "Pendapatan: Rp 20.000"
    And Admin receives a reply containing "Top-up: 1 (Rp 30.000)"

  Scenario Outline: Shop settings
    When Admin sends ".setting max_qty <max>"
    Then Admin receives the reply "Setting `max_qty` = <max>."
    When Ani sends ".buy VC <qty>"
    Then Ani receives the reply "Jumlah harus 1 sampai <max>."

    Examples:
      | max | qty |
      | 2   | 3   |
      | 5   | 6   |

  Scenario: The shop speaks English when told to
    When Admin sends ".setting language en"
    And Ani sends ".balance"
    Then Ani receives the reply "Your balance: *Rp 100.000*"
