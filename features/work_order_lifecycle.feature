Feature: A work order's lifecycle with its technicians' timestamps, and an illegal transition
  The status flow moves a job only along the transitions its page offers; a technician assigned or taken off
  shows in the job's technician table with the time the portal stamped (the sandbox's clock, which the
  scenario moves on instead of waiting). A transition the page does not offer is a business failure naming the
  allowed ones, and nothing is submitted.

  Background:
    Given I am logged in to tenant "acme" as the admin

  Scenario: A scheduled job gets a helper, is dispatched and started, cannot go back, and loses its helper
    When I run the flow "flows/sera/assign_technician.yaml" with:
      | id              | 50009        |
      | technician      | Marcus Reyes |
      | role            | helper       |
      | idempotency_key | bdd-lc-1     |
    Then the run passed
    And the assignment output has "technician" = "Marcus Reyes"
    And the assignment output has "role" = "helper"
    And the assignment output's "assigned_at" is a time during the run
    And the work_order output's "assignments" are exactly:
      | technician   | role   |
      | Tara Nguyen  | lead   |
      | Marcus Reyes | helper |
    Given the portal's clock moves on 21 minutes
    When I run the flow "flows/sera/change_work_order_status.yaml" with:
      | id              | 50009      |
      | status          | dispatched |
      | idempotency_key | bdd-lc-2   |
    Then the run passed
    And the work_order output has "status" = "dispatched"
    And the work_order output's "modified_at" is a time during the run
    When I run the flow "flows/sera/change_work_order_status.yaml" with:
      | id              | 50009       |
      | status          | in_progress |
      | idempotency_key | bdd-lc-3    |
    Then the run passed
    And the work_order output has "status" = "in_progress"
    When I run the flow "flows/sera/change_work_order_status.yaml" with:
      | id              | 50009     |
      | status          | scheduled |
      | idempotency_key | bdd-lc-4  |
    Then the run failed with "a work order that is In Progress cannot become scheduled; allowed: Completed, Paused, On Hold, Canceled"
    And the portal recorded 2 writes of work_orders
    When I run the flow "flows/sera/unassign_technician.yaml" with:
      | id              | 50009        |
      | technician      | Marcus Reyes |
      | idempotency_key | bdd-lc-5     |
    Then the run passed
    And the output "changed" is "true"
    And the work_order output's "modified_at" is a time during the run
    And the work_order output's "assignments" are exactly:
      | technician  | role |
      | Tara Nguyen | lead |
    And the portal recorded 2 writes of technician_assignments
