@payments
Feature: Payment notifications from Midtrans
  Midtrans tells the shop about a payment by POSTing a signed notification to
  /webhooks/midtrans. Each payment has its effect exactly once, whatever arrives how often.

  Background:
    Given the shop sells:
      | code | name            | price | stock |
      | NF1  | Netflix 1 Bulan | 35000 | 0     |
    And "NF1" is stocked with the accounts:
      """
      user1@mail.test|pw1
      """

  Scenario: A repeated notification delivers only once
    When Budi sends ".buy NF1"
    And Budi pays the last order
    And Midtrans sends the same notification again
    Then Midtrans gets the answer 200
    And Budi is sent 1 message containing "user1@mail.test|pw1"
    And Budi's last order is PAID

  Scenario: A repeated top-up notification credits only once
    When Budi sends ".deposit 50rb"
    And Budi pays the last order
    And Midtrans sends the same notification again
    And Midtrans sends the same notification again
    Then Budi's saldo is 50000
    And Budi is sent 1 message containing "Saldo bertambah Rp 50.000"

  Scenario: A forged notification is refused and changes nothing
    When Budi sends ".buy NF1"
    And someone posts a paid notification for Budi's last order with a forged signature
    Then Midtrans gets the answer 401
    And Budi's last order is PENDING
    And Budi is not sent any message containing "user1@mail.test"

  Scenario: A signed notification for a payment the customer never made changes nothing
    When Budi sends ".buy NF1"
    And someone posts a correctly signed notification for Budi's last order before paying
    Then Midtrans gets the answer 200
    And Budi's last order is PENDING
    And Budi is not sent any message containing "user1@mail.test"

  Scenario Outline: A payment with the wrong amount is credited to saldo, never delivered against
    When Budi sends ".deposit 50rb"
    And a paid status for Budi's last order arrives with the amount <amount>
    Then Budi's saldo is <amount>
    And Budi's last order is FAILED
    And Budi is sent a message containing "tidak sama dengan totalnya Rp 50.000"
    And Admin is sent a message containing "masuk Rp <shown>, totalnya Rp 50.000"

    Examples:
      | amount | shown  |
      | 1000   | 1.000  |
      | 500000 | 500.000 |

  Scenario Outline: A payment that does not go through releases the stock
    When Budi sends ".buy NF1"
    And Midtrans reports that Budi's last order is <state>
    Then Budi's last order is <status>
    And the stock of "NF1" is 1

    Examples:
      | state     | status    |
      | expired   | EXPIRED   |
      | cancelled | CANCELLED |
      | failed    | FAILED    |

  Scenario: An unpaid link expires and the stock returns
    When Budi sends ".buy NF1"
    And 21 minutes pass
    And the expiry job runs
    Then Budi's last order is EXPIRED
    And the stock of "NF1" is 1
    And Budi is sent a message containing "Order {order} kedaluwarsa"

  Scenario: Paying late while the stock is still there: the order is paid after all
    When Budi sends ".buy NF1"
    And 21 minutes pass
    And the expiry job runs
    And Budi pays the last order
    Then Budi's last order is PAID
    And Budi is sent a message containing "user1@mail.test|pw1"
    And the stock of "NF1" is 0
    And Admin is sent a message containing "Pembayaran terlambat untuk {order of Budi} diterima"

  Scenario: Paying late after the stock is gone: the money goes to saldo
    Given Ani has a saldo of 100000
    When Budi sends ".buy NF1"
    And 21 minutes pass
    And the expiry job runs
    And Ani sends ".buy NF1"
    And Budi pays the last order
    Then Ani receives a reply containing "user1@mail.test|pw1"
    And Budi's last order is EXPIRED
    And Budi's saldo is 35000
    And Budi is sent a message containing "Dananya kami masukkan ke saldo kamu"
    And Budi is not sent any message containing "user1@mail.test"
    And the stock of "NF1" is 0

  Scenario: The database is down when Midtrans calls: Midtrans is asked to retry
    When Budi sends ".buy NF1"
    And the database becomes unreachable
    And Budi pays the last order
    Then Midtrans gets the answer 503
    When the database is reachable again
    And Midtrans sends the same notification again
    Then Midtrans gets the answer 200
    And Budi's last order is PAID
    And Budi is sent 1 message containing "user1@mail.test|pw1"

  Scenario: A refunded top-up takes its credit back
    When Budi sends ".deposit 50rb"
    And Budi pays the last order
    Then Budi's saldo is 50000
    When Midtrans reports that Budi's last order is refunded
    Then Budi's saldo is 0
    And Budi's last order is REFUNDED
    And Budi is sent a message containing "saldo yang berasal darinya kami kurangi Rp 50.000"

  Scenario: A top-up refunded after it was spent: what is left is taken back, the rest shown to admins
    When Budi sends ".deposit 50rb"
    And Budi pays the last order
    And Budi sends ".buy NF1 saldo"
    And Midtrans reports that Budi's last top-up is refunded
    Then Budi's saldo is 0
    And Budi receives a reply containing "user1@mail.test|pw1"
    And Admin is sent a message containing "saldo pembeli dikurangi Rp 15.000, kekurangan Rp 35.000"

  Scenario: A chargeback after delivery is recorded and told to the admins
    When Budi sends ".buy NF1"
    And Budi pays the last order
    And Midtrans reports that Budi's last order is charged back
    Then Budi's last order is REFUNDED
    And Budi is sent 1 message containing "user1@mail.test|pw1"
    And the stock of "NF1" is 0
    And Admin is sent a message containing "yang barangnya sudah dikirim"

  Scenario: A payment after a denial delivers after all
    When Budi sends ".buy NF1"
    And Midtrans reports that Budi's last order is denied
    Then Budi's last order is FAILED
    And the stock of "NF1" is 1
    When Budi pays the last order
    Then Budi's last order is PAID
    And Budi is sent a message containing "user1@mail.test|pw1"
    And Admin is sent a message containing "Pembayaran terlambat untuk {order of Budi} diterima"
