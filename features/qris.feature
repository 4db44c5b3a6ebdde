@qris
Feature: Paying with QRIS
  A customer who picks QRIS gets the code as a picture to scan with any bank or e-wallet app.
  The order and its reserved stock behave exactly as for a payment link.

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

  Scenario: Buying with QRIS sends the code as a picture and reserves the stock
    When Budi sends ".buy NF1 qris"
    Then Budi receives a QR picture that reads as the QRIS code of his last order
    And Budi receives a reply containing "Order {order}"
    And Budi receives a reply containing "Netflix 1 Bulan = *Rp 35.000*"
    And Budi receives a reply containing "Bayar dengan QRIS sebelum"
    And Budi receives a reply containing "scan QR ini dengan aplikasi bank atau e-wallet"
    And Budi's last order is PENDING
    And the stock of "NF1" is 2

  Scenario: Paying the QRIS code delivers the reserved account
    When Budi sends ".buy NF1 qris"
    And Budi pays the last order
    Then Midtrans gets the answer 200
    And Budi's last order is PAID
    And Budi is sent 1 message containing "Pesanan {order}"
    And Budi is sent a message containing "user1@mail.test|pw1"
    And the stock of "NF1" is 2

  Scenario: A QRIS code that is not paid expires with its order
    When Budi sends ".buy NF1 qris"
    And Midtrans reports that Budi's last order is expired
    Then Budi's last order is EXPIRED
    And the stock of "NF1" is 3

  Scenario: A QRIS charge the provider refuses releases the stock and offers the link
    Given the payment provider refuses the next charge
    When Budi sends ".buy NF1 qris"
    Then Budi receives a reply containing "QRIS sedang tidak bisa dibuat, coba lagi"
    And Budi receives a reply containing ".buy NF1 link"
    And Budi receives no picture
    And Budi's last order is FAILED
    And the stock of "NF1" is 3

  Scenario: The shop makes QRIS the default when saldo does not cover a purchase
    Given Admin has sent ".setting payment_method qris"
    When Budi sends ".buy VC 2"
    Then Budi receives a QR picture that reads as the QRIS code of his last order
    When Ani sends ".buy VC 2"
    Then Ani receives a reply containing "Pembelian berhasil"
    And Ani receives no picture

  Scenario: Topping up with QRIS
    When Budi sends ".deposit 50rb qris"
    Then Budi receives a QR picture that reads as the QRIS code of his last order
    And Budi receives a reply containing "Isi saldo *Rp 50.000*"
    When Budi pays the last order
    Then Budi's saldo is 50000
    And Budi is sent 1 message containing "Saldo bertambah Rp 50.000"

  Scenario: The shop's default QRIS also applies to top-ups, and a link can still be asked for
    Given Admin has sent ".setting payment_method qris"
    When Budi sends ".topup 20rb"
    Then Budi receives a QR picture that reads as the QRIS code of his last order
    When Budi sends ".batal"
    And 2 minutes pass
    And Budi sends ".deposit 20rb link"
    Then Budi receives a reply containing "/pay/{order}"
    And Budi receives no picture

  Scenario: The payment link of a QRIS order, as text on request
    When Budi sends ".buy NF1 qris"
    And Budi sends ".link {order}"
    Then Budi receives a reply containing "Link bayar order {order} (Rp 35.000)"
    And Budi receives a reply containing "http://shop.test/pay/{order}"
    And Budi receives no picture

  Scenario: Saldo is not a way to top up
    When Budi sends ".deposit 50rb saldo"
    Then Budi receives a reply containing "Format: .deposit NOMINAL [link|qris]"
    And Budi has 0 orders
