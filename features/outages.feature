@outages
Feature: Redis or the database being down
  Without Redis the shop keeps selling (fail-open): caches, locks and rate limits are skipped,
  and the database alone still stops overselling and overspending. Without the database the
  customer gets a short apology and nothing is half written.

  Background:
    Given the shop sells:
      | code | name            | price  | stock |
      | NF1  | Netflix 1 Bulan | 35000  | 0     |
      | VC   | Voucher 10rb    | 10.000 | 20    |
    And "NF1" is stocked with the accounts:
      """
      user1@mail.test|pw1
      """
    And Ani has a saldo of 100000
    And Budi has a saldo of 100000

  Scenario: Without Redis, browsing and buying with saldo still work
    Given Redis is unreachable
    When Ani sends ".produk"
    Then Ani receives a reply containing "*VC* — Voucher 10rb"
    When Ani sends ".buy VC 2"
    Then Ani receives a reply containing "Pembelian berhasil"
    And Ani's saldo is 80000
    And the stock of "VC" is 18

  Scenario: Without Redis, a payment link and its payment still work
    Given Redis is unreachable
    When Citra sends ".buy VC"
    And Citra pays the last order
    Then Citra's last order is PAID
    And Citra is sent a message containing "Pesanan {order}"

  Scenario: Without Redis, the last account still goes to one customer only
    Given Redis is unreachable
    When Ani and Budi both send ".buy NF1" at the same time
    Then exactly one of Ani and Budi receives a reply containing "user1@mail.test|pw1"
    And exactly one of Ani and Budi receives a reply containing "Stok NF1 tidak cukup (sisa 0)."
    And the stock of "NF1" is 0

  Scenario: Without Redis, a double tap cannot spend the saldo twice
    Given Redis is unreachable
    And Admin has sent ".setharga VC 60rb"
    When Ani and Ani both send ".buy VC 1 saldo" at the same time
    Then Ani is sent 1 message containing "Pembelian berhasil"
    And Ani is sent 1 message containing "Saldo tidak cukup"
    And Ani's saldo is 40000
    And the stock of "VC" is 19

  Scenario Outline: Without the database, a short apology
    Given the database is unreachable
    When Ani sends "<command>"
    Then Ani receives the reply "Sistem sedang gangguan, coba lagi sebentar."

    Examples:
      | command        |
      | .buy VC        |
      | .saldo         |
      | .deposit 50rb  |
      | .riwayat       |

  Scenario: When the database is back, the customer can buy again
    When Ani sends ".saldo"
    And the database becomes unreachable
    And Ani sends ".buy VC"
    Then Ani receives the reply "Sistem sedang gangguan, coba lagi sebentar."
    When the database is reachable again
    And Ani sends ".buy VC"
    Then Ani receives a reply containing "Pembelian berhasil"
    And Ani's saldo is 90000
    And the stock of "VC" is 19
