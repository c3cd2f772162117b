Feature: A flaky portal never yields a silently short list
  The sandbox answers a share of requests with its HTML 500 page. A page of the walk that answered with it is
  opened once more in the browser; a run that still meets it ends as a technical failure with the failing page
  as evidence. It never returns the pages it managed to read as if they were all.

  Background:
    Given I am logged in to tenant "acme" as the admin

  Scenario: Some of the customer pages are errors
    Given the portal answers 10% of requests to "/customers" with errors
    When I run the flow "flows/sera/list_customers.yaml" with:
      | q | Austin |
    Then the run either errored with the failing page as evidence or returned all 896 customers

  Scenario: Every customer page is an error
    Given the portal answers 100% of requests to "/customers" with errors
    When I run the flow "flows/sera/list_customers.yaml" with:
      | q | Austin |
    Then the run errored with "the portal answered HTTP 500 on GET /customers?page_size=50&q=Austin&type=&status=&tag=&modified_since=&sort= (while waiting for 'customers.table')"
    And the failure class is "PortalFailed"
    And a screenshot of the failing page was saved

  Scenario: Without errors the same search passes
    When I run the flow "flows/sera/list_customers.yaml" with:
      | q | Austin |
    Then the run passed
