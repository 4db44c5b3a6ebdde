@topup
Feature: Topping up the saldo
  A customer asks for a top-up, pays the link, and the saldo grows exactly once.

  Scenario Outline: Every way of writing the amount
    When Budi sends ".deposit <amount>"
    Then Budi receives a reply containing "Isi saldo <rupiah>"
    And Budi receives a reply containing "/pay/{order}"
    And Budi's last order is PENDING

    Examples:
      | amount | rupiah    |
      | 50000  | Rp 50.000 |
      | 50.000 | Rp 50.000 |
      | 50rb   | Rp 50.000 |
      | 50k    | Rp 50.000 |
      | 10.000 | Rp 10.000 |
      | 1jt    | Rp 1.000.000 |

  Scenario Outline: Paying the top-up credits the saldo
    When Budi sends "<command> <amount>"
    And Budi pays the last order
    Then Budi's saldo is <saldo>
    And Budi is sent 1 message containing "Saldo bertambah"
    And Budi's last order is PAID

    Examples:
      | command  | amount | saldo  |
      | .deposit | 25rb   | 25000  |
      | .topup   | 75.000 | 75000  |
      | /deposit | 100k   | 100000 |

  Scenario Outline: Amounts outside the limits
    When Budi sends ".deposit <amount>"
    Then Budi receives the reply "Nominal deposit harus antara Rp 10.000 dan Rp 10.000.000."
    And Budi has 0 orders

    Examples:
      | amount     |
      | 9000       |
      | 10.000.001 |

  Scenario Outline: Amounts that are not amounts
    When Budi sends ".deposit <amount>"
    Then Budi receives a reply containing "Format: .deposit NOMINAL"

    Examples:
      | amount |
      | lima   |
      | 50.00  |
      | -5000  |
      | 1 2    |

  Scenario: The top-up shows in the saldo command at once
    When Budi sends ".topup 30rb"
    And Budi pays the last order
    And Budi sends ".saldo"
    Then Budi receives the reply "Saldo kamu: *Rp 30.000*"
