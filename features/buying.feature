@buying
Feature: Buying with saldo or with a payment link
  A customer with enough saldo gets the product at once. Without enough saldo (or when asking
  for a link) the stock is reserved and the customer gets a payment link; the product is
  delivered in the chat once Midtrans confirms the payment.

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

  Scenario: Buying an account with saldo delivers the oldest one
    When Ani sends ".buy NF1"
    Then Ani receives a reply containing "Pembelian berhasil"
    And Ani receives a reply containing "Sisa saldo: Rp 65.000"
    And Ani receives a reply containing "user1@mail.test|pw1"
    And Ani receives a reply not containing "user2@mail.test"
    And Ani's saldo is 65000
    And the stock of "NF1" is 2
    And Ani's last order is PAID

  Scenario Outline: Buying a quantity with saldo
    When Ani sends "<command>"
    Then Ani receives a reply containing "Pembelian berhasil"
    And Ani receives a reply containing "<line>"
    And Ani's saldo is <saldo left>
    And the stock of "VC" is <stock left>

    Examples:
      | command        | line                      | saldo left | stock left |
      | .buy VC        | 1x Voucher 10rb = Rp 10.000 | 90000      | 19         |
      | .buy VC 3      | 3x Voucher 10rb = Rp 30.000 | 70000      | 17         |
      | .beli vc 2     | 2x Voucher 10rb = Rp 20.000 | 80000      | 18         |
      | /buy VC 10     | 10x Voucher 10rb = Rp 100.000 | 0        | 10         |
      | !beli VC 5 saldo | 5x Voucher 10rb = Rp 50.000 | 50000    | 15         |
      | buy:VC         | 1x Voucher 10rb = Rp 10.000 | 90000      | 19         |

  Scenario Outline: A quantity outside 1 to 10 is refused
    When Ani sends ".buy VC <qty>"
    Then Ani receives the reply "Jumlah harus 1 sampai 10."
    And Ani's saldo is 100000

    Examples:
      | qty |
      | 0   |
      | 11  |

  Scenario Outline: A malformed buy command gets the usage
    When Ani sends "<command>"
    Then Ani receives a reply containing "Format: .buy KODE [JUMLAH] [saldo|link]"

    Examples:
      | command              |
      | .buy                 |
      | .buy NF-1            |
      | .buy NF1 dua         |
      | .buy NF1 1 saldo lagi |

  Scenario: Without enough saldo the customer gets a payment link and the stock is reserved
    When Budi sends ".buy NF1"
    Then Budi receives a reply containing "http://shop.test/pay/{order}"
    And Budi's last order is PENDING
    And the stock of "NF1" is 2
    And Budi's saldo is 0

  Scenario: Paying the link delivers the reserved account
    When Budi sends ".buy NF1"
    And Budi pays the last order
    Then Midtrans gets the answer 200
    And Budi's last order is PAID
    And Budi is sent 1 message containing "Pesanan {order}"
    And Budi is sent a message containing "user1@mail.test|pw1"
    And the stock of "NF1" is 2

  Scenario: Asking for a link even when saldo would cover it
    When Ani sends ".buy VC link"
    Then Ani receives a reply containing "/pay/{order}"
    And Ani's saldo is 100000

  Scenario: Insisting on saldo without enough saldo is refused, not linked
    When Budi sends ".buy VC 1 saldo"
    Then Budi receives a reply containing "Saldo tidak cukup. Saldo: Rp 0, total: Rp 10.000, kurang Rp 10.000."
    And Budi receives a reply containing "Isi saldo dulu: .deposit 10000"
    And Budi has 0 orders
    And the stock of "VC" is 20

  Scenario: Asking for more than the stock
    When Ani sends ".buy NF1 4"
    Then Ani receives the reply "Stok NF1 tidak cukup (sisa 3)."
    And Ani's saldo is 100000
    And the stock of "NF1" is 3

  Scenario: Sold out
    When Admin sends ".setstok VC 0"
    And Ani sends ".buy VC"
    Then Ani receives the reply "Stok VC tidak cukup (sisa 0)."
    And Ani's saldo is 100000

  Scenario: An unknown product
    When Ani sends ".buy ZZ"
    Then Ani receives a reply containing "Produk ZZ tidak ditemukan"

  Scenario: Two customers racing for the last account: only one gets it
    Given Budi has a saldo of 100000
    And Citra has sent ".buy NF1 2"
    When Ani and Budi both send ".buy NF1" at the same time
    Then exactly one of Ani and Budi receives a reply containing "Pembelian berhasil"
    And the stock of "NF1" is 0
