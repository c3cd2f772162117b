Feature: Work orders: a customer's jobs and one job's lifecycle as recorded
  list_work_orders follows the jobs report's numbered pages to the end; get_work_order reads a job's page
  with its line items, technician assignments (with their timestamps) and status history.

  Background:
    Given I am logged in to tenant "acme" as the admin

  Scenario Outline: A customer's work orders filtered by status: <status>
    When I run the flow "flows/sera/list_work_orders.yaml" with:
      | customer_id | 1003     |
      | status      | <status> |
    Then the run passed
    And the output has <count> work_orders
    And every work_order matches "status" = "<status>"

    Examples:
      | status      | count |
      | completed   | 5     |
      | on_hold     | 6     |
      | in_progress | 2     |

  Scenario: The completed ones, exactly
    When I run the flow "flows/sera/list_work_orders.yaml" with:
      | customer_id | 1003      |
      | status      | completed |
    Then the work_orders output is exactly, in any order:
      | number   | status    | total_cents |
      | WO-10004 | completed | 747600      |
      | WO-10005 | completed | 889800      |
      | WO-25580 | completed | 878100      |
      | WO-74285 | completed | 658100      |
      | WO-88239 | completed | 35300       |

  Scenario: A completed job carries its technicians' timestamps and its history
    When I run the flow "flows/sera/get_work_order.yaml" with:
      | id | 50004 |
    Then the run passed
    And the work_order output has "number" = "WO-10004"
    And the work_order output has "status" = "completed"
    And the work_order output has "total_cents" = "747600"
    And every assignment in the work_order output has a "arrived_at"
    And every assignment in the work_order output has a "completed_at"
    And the work_order output has "status_history.0.status" = "unscheduled"
