@seller
Feature: The seller's side of an order
  Products the seller delivers by hand wait for the seller once paid; customers can ask for a
  person and the admin answers as the shop.

  Background:
    Given the shop sells:
      | code  | name         | price | stock |
      | CANVA | Canva Invite | 20000 | 5     |
    And Ani has a saldo of 100000

  Scenario: A manual order is paid, the admin is told, delivers it, and the buyer can have it again
    When Admin sends ".setproduk CANVA kirim manual"
    And Ani sends ".buy CANVA"
    Then Ani receives a reply containing "sedang disiapkan admin"
    And Admin is sent a message containing ".kirim {order of Ani}"
    When Ani sends ".status {order}"
    Then Ani receives a reply containing "menunggu dikirim admin"
    When Admin sends ".kirim {order of Ani} https://canva.test/invite/abc"
    Then Admin receives a reply containing "terkirim ke"
    And Ani is sent 1 message containing "https://canva.test/invite/abc"
    When Ani sends ".kirimulang"
    Then Ani receives a reply containing "https://canva.test/invite/abc"
    When Admin sends ".kirim {order of Ani} lagi"
    Then Admin receives a reply containing "sudah dikirim pada"

  Scenario: A customer asks for a person and the admin answers
    When Ani sends ".admin pesanan saya belum masuk"
    Then Ani receives the reply "Pesanmu sudah diteruskan ke admin. Balasannya akan datang di chat ini."
    And Admin is sent a message containing "pesanan saya belum masuk"
    When Admin sends ".balas 081200000002 Sudah kami kirim ya"
    Then Admin receives a reply containing "Terkirim ke"
    And Ani is sent a message containing "Sudah kami kirim ya"

  Scenario: A manual order still waiting is reminded to the admins
    When Admin sends ".setproduk CANVA kirim manual"
    And Ani sends ".buy CANVA"
    And 29 minutes pass
    And the cluster jobs run
    Then Admin is not sent any message containing "masih menunggu dikirim"
    When 1 minutes pass
    And the cluster jobs run
    Then Admin is sent 1 message containing "masih menunggu dikirim"
    When 119 minutes pass
    And the cluster jobs run
    Then Admin is sent 1 message containing "masih menunggu dikirim"
    When 1 minutes pass
    And the cluster jobs run
    Then Admin is sent 2 messages containing "masih menunggu dikirim"
    When Admin sends ".kirim {order of Ani} https://canva.test/invite/abc"
    And 120 minutes pass
    And the cluster jobs run
    Then Admin is sent 2 messages containing "masih menunggu dikirim"

  Scenario: One alert with two workers
    Given Ani's saldo is changed to 150000 behind the shop's back
    When two workers run the cluster jobs at the same time
    Then Admin is sent 1 message containing "jumlah mutasinya"
    When 10 minutes pass
    And two workers run the cluster jobs at the same time
    Then Admin is sent 1 message containing "jumlah mutasinya"

  Scenario: A delivery to a customer who has not written for 24 hours waits for her next message
    When Admin sends ".setproduk CANVA kirim manual"
    And Ani sends ".buy CANVA"
    And 1500 minutes pass
    And Ani has not written to the shop for more than 24 hours
    When Admin sends ".kirim {order of Ani} https://canva.test/invite/abc"
    Then Ani is not sent any message containing "https://canva.test/invite/abc"
    And Admin is sent 1 message containing "Pesan untuk pelanggan 6281200000002 ditahan"
    When the outbox is drained
    Then Ani is not sent any message containing "https://canva.test/invite/abc"
    When Ani sends ".saldo"
    Then Ani is sent 1 message containing "https://canva.test/invite/abc"
    And Ani receives a reply containing "Saldo"
    And Admin is sent 1 message containing "ditahan"
