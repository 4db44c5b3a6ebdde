@browsing
Feature: Browsing the catalogue
  Customers look at the product list and the details of one product. The list is kept in a
  cache for 5 minutes, so a busy shop does not ask the database again for every customer.

  Background:
    Given the shop sells:
      | code | name            | price  | stock | description  |
      | NF1  | Netflix 1 Bulan | 35000  | 3     | Akun premium |
      | VC   | Voucher 10rb    | 10.000 | 20    |              |

  Scenario Outline: The product list under every alias
    When Ani sends "<command>"
    Then Ani receives a reply containing "*NF1* — Netflix 1 Bulan"
    And Ani receives a reply containing "Rp 35.000 · stok 3"
    And Ani receives a reply containing "Rp 10.000 · stok 20"

    Examples:
      | command   |
      | .produk   |
      | /products |
      | !list     |
      | .PRODUK   |
      | /list     |

  Scenario: Product details
    When Budi sends ".produk nf1"
    Then Budi receives a reply containing "*Netflix 1 Bulan* (NF1)"
    And Budi receives a reply containing "Akun premium"

  Scenario: An unknown product
    When Budi sends ".produk XX9"
    Then Budi receives a reply containing "Produk XX9 tidak ditemukan"

  Scenario: A second look within 5 minutes comes from the cache
    When Ani sends ".produk"
    Then the product list was read from the database 1 time
    When 4 minutes pass
    And Budi sends ".produk"
    Then Budi receives a reply containing "*NF1* — Netflix 1 Bulan"
    And the product list was read from the database 1 time

  Scenario: A change by the admin is shown at once
    When Ani sends ".produk"
    And Admin sends ".setharga VC 12rb"
    And Ani sends ".produk"
    Then Ani receives a reply containing "Rp 12.000 · stok 20"
    And the product list was read from the database 2 times

  Scenario: A sale updates the stock shown
    Given Ani has a saldo of 100000
    When Budi sends ".produk"
    And Ani sends ".buy VC 2"
    And Budi sends ".produk"
    Then Budi receives a reply containing "Rp 10.000 · stok 18"

  @clock_driven_cache
  Scenario: After 5 minutes the list is read from the database again
    When Ani sends ".produk"
    And 6 minutes pass
    And Ani sends ".produk"
    Then the product list was read from the database 2 times

  Scenario: An empty shop
    When Admin sends ".hapusproduk NF1"
    And Admin sends ".hapusproduk VC"
    And Ani sends ".produk"
    Then Ani receives a reply containing "Belum ada produk"
