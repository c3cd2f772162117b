Feature: Memberships: create and renew with their billing, the payment token never shown
  create_membership signs a customer up to a program with its billing (cadence, price, autopay, the saved
  payment method) and renew_membership starts the next term; both read the membership back as the portal shows
  it. The payment method token is a secret: the portal shows only its last four characters, and it appears in
  no output, record or file of the runs.

  Background:
    Given I am logged in to tenant "acme" as the admin
    And the secret "sera_payment_method" is "pm_W2secretTok9Qx7"

  Scenario: A quarterly membership on autopay is created, then renewed as annual
    When I run the flow "flows/sera/create_membership.yaml" with:
      | customer_id     | 1003      |
      | program_id      | 1         |
      | cadence         | quarterly |
      | price           | 47.25     |
      | autopay         | true      |
      | idempotency_key | bdd-m-1   |
    Then the run passed
    And the output "created" is "true"
    And the membership output has "customer_id" = "1003"
    And the membership output has "status" = "active"
    And the membership output has "renewal_type" = "auto_renew"
    And the membership output has "billing.cadence" = "quarterly"
    And the membership output has "billing.interval_count" = "1"
    And the membership output has "billing.price_cents" = "4725"
    And the membership output has "billing.autopay" = "true"
    And the membership output has "billing.collection_method" = "card_on_file"
    And the membership output has "billing.payment_method_ref" = "pm_…9Qx7"
    And the portal recorded 1 writes of memberships
    Given the flow var "id" is the membership output's "id"
    When I run the flow "flows/sera/renew_membership.yaml" with:
      | cadence         | annual  |
      | price           | 199.00  |
      | idempotency_key | bdd-r-1 |
    Then the run passed
    And the output "renewed" is "true"
    And the membership output has "status" = "pending"
    And the membership output has "billing.cadence" = "annual"
    And the membership output has "billing.price_cents" = "19900"
    And the membership output has "billing.autopay" = "true"
    And the membership output has "billing.payment_method_ref" = "pm_…9Qx7"
    And the previous output has "status" = "expired"
    And the previous output has no "next_billing_date"
    And the portal recorded 2 writes of memberships
    And "pm_W2secretTok9Qx7" appears in no output, record or file of the runs
