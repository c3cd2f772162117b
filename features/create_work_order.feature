Feature: Creating a work order with line items
  create_work_order checks every line's code in the pricebook, fills the job form (a line's price overrides the
  pricebook's), submits once behind the caller's key (the work order's reference) and returns the work order as
  its page shows it afterwards. An unknown code is refused before the form is opened.

  Background:
    Given I am logged in to tenant "acme" as the admin

  Scenario Outline: A work order with a diagnostic visit and <quantity> x <code> at <what>
    Given the flow var "lines" is the list:
      | code     | quantity   | price   |
      | DIA-100  | 1          |         |
      | <code>   | <quantity> | <price> |
    When I run the flow "flows/sera/create_work_order.yaml" with:
      | idempotency_key | <key>            |
      | customer        | C-100003         |
      | job_type        | Furnace Repair   |
      | priority        | high             |
      | summary         | No heat upstairs |
    Then the run passed
    And the output "created" is "true"
    And the output "submits" is "1"
    And the work_order output has "customer" = "Zoë O'Brien"
    And the work_order output has "job_type" = "Furnace Repair"
    And the work_order output has "priority" = "high"
    And the work_order output has "status" = "unscheduled"
    And the work_order output's "line_items" are exactly:
      | code    | quantity   | unit_price_cents | total_cents   |
      | DIA-100 | 1.0        | 20099            | 20099         |
      | <code>  | <quantity>.0 | <unit_cents>   | <total_cents> |
    And the work_order output has "grand_total_cents" = "<grand_total_cents>"
    And the portal recorded 1 writes of work_orders

    Examples:
      | what                 | key       | code    | quantity | price  | unit_cents | total_cents | grand_total_cents |
      | an overridden price  | bdd-wo-1  | PAR-118 | 2        | 199.50 | 19950      | 39900       | 63291             |
      | the pricebook price  | bdd-wo-2  | PAR-118 | 3        |        | 23051      | 69153       | 94957             |

  Scenario: An unknown pricebook code is a business failure, and the form is never opened
    Given the flow var "lines" is the list:
      | code    | quantity |
      | DIA-100 | 1        |
      | ZZZ-999 | 3        |
    When I run the flow "flows/sera/create_work_order.yaml" with:
      | idempotency_key | bdd-wo-bad     |
      | customer        | C-100003       |
      | job_type        | Furnace Repair |
    Then the run failed with "the pricebook has no active item with the code ZZZ-999"
    And the portal saw 0 requests to "GET /jobs/new"
    And the portal recorded 0 writes of work_orders
