Feature: The Sera API: a create behind an Idempotency-Key happens once
  A client that sends the same create again with the same Idempotency-Key gets the first answer replayed from
  the store (no second run, no second record in the portal); the same key with another body is a conflict.

  Scenario: The same create twice is replayed; another body under the key is refused
    Given the sandbox Sera portal
    And the Sera API is served
    And I have an API session for my account
    When I send "POST /customers" with the Idempotency-Key "bdd-api-ada":
      """
      {"name": "Ada Gherkin", "email": "Ada.Gherkin@Example.com", "type": "commercial", "city": "Austin", "state": "TX"}
      """
    Then the API answered 201
    And the API answer has "created" = "true"
    And the API answer has "customer.email" = "ada.gherkin@example.com"
    When I send "POST /customers" with the Idempotency-Key "bdd-api-ada":
      """
      {"name": "Ada Gherkin", "email": "Ada.Gherkin@Example.com", "type": "commercial", "city": "Austin", "state": "TX"}
      """
    Then the API answer is the first one replayed
    And the portal recorded 1 writes of customers
    When I send "POST /customers" with the Idempotency-Key "bdd-api-ada":
      """
      {"name": "Ada Gherkin", "email": "Ada.Gherkin@Example.com", "type": "commercial", "city": "Dallas", "state": "TX"}
      """
    Then the API answered 409 with the error "idempotency_conflict": "this Idempotency-Key was used with a different request"
    And the portal recorded 1 writes of customers
