@orders
Feature: Cancel, resend, history and status
  Customers look after their own orders: cancel a payment they will not make, get a
  delivered product again, see their last transactions and the status of one order.

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

  Scenario Outline: Cancelling the pending payment returns the reserved stock at once
    When Budi sends ".buy NF1 2"
    And Budi sends "<command>"
    Then Budi receives the reply "Order {order} dibatalkan."
    And Budi's last order is CANCELLED
    And the stock of "NF1" is 3

    Examples:
      | command         |
      | .batal          |
      | .cancel         |
      | /batal {order}  |

  Scenario: Nothing to cancel
    When Budi sends ".batal"
    Then Budi receives the reply "Tidak ada pembayaran yang menunggu."

  Scenario: A paid order cannot be cancelled
    When Ani sends ".buy VC"
    And Ani sends ".batal {order}"
    Then Ani receives the reply "Order {order} tidak bisa dibatalkan (status lunas)."
    And Ani's saldo is 90000

  Scenario: Someone else's order cannot be cancelled
    When Budi sends ".buy VC"
    And Ani sends ".batal {order of Budi}"
    Then Ani receives the reply "Order {order of Budi} tidak ditemukan."
    And Budi's last order is PENDING

  Scenario Outline: Resending the last paid order sends the same account again
    When Ani sends ".buy NF1"
    And Ani sends "<command>"
    Then Ani receives a reply containing "user1@mail.test|pw1"
    And the stock of "NF1" is 2
    And Ani's saldo is 65000

    Examples:
      | command              |
      | .kirimulang          |
      | .resend              |
      | .kirimulang {order}  |

  Scenario: Nothing paid to resend
    When Budi sends ".resend"
    Then Budi receives the reply "Belum ada pesanan lunas untuk dikirim ulang."

  Scenario Outline: History lists purchases and top-ups
    When Ani sends ".buy VC 2"
    And Ani sends ".deposit 20rb"
    And Ani sends "<command>"
    Then Ani receives a reply containing "*Riwayat transaksi*"
    And Ani receives a reply containing "2x VC · Rp 20.000 · lunas"
    And Ani receives a reply containing "isi saldo · Rp 20.000 · menunggu pembayaran"

    Examples:
      | command   |
      | .riwayat  |
      | .history  |
      | !riwayat  |

  Scenario: An empty history
    When Budi sends ".history"
    Then Budi receives the reply "Belum ada transaksi."

  Scenario Outline: Status of one's own order under every alias
    When Budi sends ".buy VC"
    And Budi sends "<command> {order}"
    Then Budi receives a reply containing "Order {order}"
    And Budi receives a reply containing "menunggu pembayaran"
    And Budi receives a reply containing "Link bayar: http://shop.test/pay/{order}"

    Examples:
      | command |
      | .status |
      | .cek    |
      | /STATUS |

  Scenario: Status after paying
    When Budi sends ".buy VC"
    And Budi pays the last order
    And Budi sends ".status {order}"
    Then Budi receives a reply containing "lunas"

  Scenario: Someone else's order reads as not found
    When Ani sends ".buy VC"
    And Budi sends ".status {order of Ani}"
    Then Budi receives the reply "Order {order of Ani} tidak ditemukan."

  Scenario: Status without an order id is the latest order
    When Budi sends ".status"
    Then Budi receives the reply "Belum ada transaksi."
    When Budi sends ".buy VC"
    And Budi sends ".status"
    Then Budi receives a reply containing "{order of Budi}"

  Scenario: The saldo command
    When Ani sends ".saldo"
    Then Ani receives the reply "Saldo kamu: *Rp 100.000*"
    When Ani sends ".buy VC"
    And Ani sends ".balance"
    Then Ani receives the reply "Saldo kamu: *Rp 90.000*"
