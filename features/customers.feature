Feature: Customer list and customer detail
  The list_customers robot reads every page of the customer list (or a search), get_customer reads one
  customer's page; both return normalized records (cents, lower-cased e-mails, snake_case enums).

  Background:
    Given I am logged in to tenant "acme" as the admin

  @smoke
  Scenario: A search lists each matching customer once, normalized
    When I run the flow "flows/sera/list_customers.yaml" with:
      | q | Austin |
    Then the run passed
    And no customer appears twice
    And every customer has a balance in cents
    And every customer has a "status" from "active, inactive, on_hold"
    And every customer has a "source_url"
    And every customer matches "city" = "Austin"

  @slow
  Scenario: The whole list has every customer the portal holds
    When I run the flow "flows/sera/list_customers.yaml"
    Then the run passed
    And the output has as many customers as the portal holds
    And no customer appears twice

  Scenario: One customer's page as a normalized record
    When I run the flow "flows/sera/get_customer.yaml" with:
      | id | 1003 |
    Then the run passed
    And the customer output is exactly:
      | id   | number   | name        | type        | status | balance_cents | email                  | city   |
      | 1003 | C-100003 | Zoë O'Brien | residential | active | 123450        | zoe.obrien@example.com | Austin |

  Scenario: Page steps by selector name: search the customer list
    When I open "/customers"
    And I fill "customers.search" with "C-100003"
    And I press "Enter" in "customers.search"
    And I wait until "customers.summary" shows "of 1 customer"
    Then "customers.summary" contains "of 1 customer"
