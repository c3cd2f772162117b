Feature: Layout variant B: flows pass through fallback selectors, with the drift recorded
  The sandbox's layout B renames or moves every element a first-choice selector points at. Every Sera flow
  must still return the same records, and the run record says which selectors needed a fallback.

  Background:
    Given I am logged in to tenant "acme" as the admin
    And the portal shows layout variant B

  Scenario: The customer detail under layout B
    When I run the flow "flows/sera/get_customer.yaml" with:
      | id | 1003 |
    Then the run passed
    And the run recorded selector drift
    And the customer output is exactly:
      | id   | number   | name        | balance_cents | email                  |
      | 1003 | C-100003 | Zoë O'Brien | 123450        | zoe.obrien@example.com |

  Scenario: A customer search under layout B
    When I run the flow "flows/sera/list_customers.yaml" with:
      | q | C-100003 |
    Then the run passed
    And the run recorded selector drift for "customers.table"
    And the customers output includes:
      | id   | name        |
      | 1003 | Zoë O'Brien |
