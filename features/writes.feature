Feature: Safe writes: work-order lifecycle, invoice void, customer create
  Write flows probe the portal before submitting and after any unclear answer, so a repeated call or a
  retry after a slow commit never writes twice; the portal's refusals are business failures in its words.

  Background:
    Given I am logged in to tenant "acme" as the admin

  Scenario: A scheduled job is dispatched; the same change again submits nothing
    When I run the flow "flows/sera/change_work_order_status.yaml" with:
      | id              | 50009      |
      | status          | dispatched |
      | idempotency_key | bdd-s-1    |
    Then the run passed
    And the work_order output has "status" = "dispatched"
    And the output "changed" is "true"
    When I run the flow "flows/sera/change_work_order_status.yaml" again
    Then the run passed
    And the output "changed" is "false"
    And the output "submits" is "0"
    And the portal recorded 1 writes of work_orders

  Scenario Outline: An illegal transition names the allowed ones
    When I run the flow "flows/sera/change_work_order_status.yaml" with:
      | id              | <id>     |
      | status          | <status> |
      | idempotency_key | bdd-s-2  |
    Then the run failed with "<message>"
    And the portal recorded 0 writes of work_orders

    Examples:
      | id    | status    | message |
      | 50009 | completed | a work order that is Scheduled cannot become completed; allowed: Dispatched, Canceled |
      | 50002 | scheduled | a work order that is Completed cannot become scheduled; allowed: none (the work order is closed) |

  Scenario: An invoice void answered after the timeout voids once
    Given the portal has the fault "slow_commit" with:
      | ms    | 9000       |
      | paths | /invoices/ |
    When I run the flow "flows/sera/void_invoice.yaml" with:
      | id              | 300001       |
      | reason          | Billed twice |
      | idempotency_key | bdd-v-1      |
    Then the run passed
    And the invoice output has "status" = "voided"
    And the invoice output has "balance_cents" = "0"
    When I run the flow "flows/sera/void_invoice.yaml" again
    Then the output "voided_now" is "false"
    And the portal recorded 1 writes of invoices

  Scenario: A card payment answered after the timeout is recorded once, found again by its key
    Given the portal has the fault "slow_commit" with:
      | ms    | 9000       |
      | paths | /invoices/ |
    When I run the flow "flows/sera/record_payment.yaml" with:
      | invoice_id      | 300004    |
      | amount          | 100.00    |
      | method          | card      |
      | reference       | 4242      |
      | idempotency_key | bdd-pay-1 |
    Then the run passed
    And the payment output has "amount_cents" = "10000"
    And the payment output has "payment_method_ref" = "4242"
    And the invoice output has "payment_status" = "partial"
    When I run the flow "flows/sera/record_payment.yaml" again
    Then the run passed
    And the output "created" is "false"
    And the portal recorded 1 writes of payments

  Scenario: A customer created under a slow commit is created once
    Given the portal has the fault "slow_commit" with:
      | ms    | 9000       |
      | paths | /customers |
    When I run the flow "flows/sera/create_customer.yaml" with:
      | idempotency_key | bdd-c-1                 |
      | name            | Quinn Gherkin           |
      | email           | Quinn.Gherkin@Example.com |
      | city            | Austin                  |
      | state           | TX                      |
    Then the run passed
    And the customer output has "email" = "quinn.gherkin@example.com"
    And the portal recorded 1 writes of customers
