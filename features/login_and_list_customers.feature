Feature: Sign in to Sera and list every customer
  Ops people run the list_customers robot unattended. It signs in with a password and a TOTP code,
  reads every page of the customer list, and says plainly when the portal refuses the sign-in.

  Background:
    Given the sandbox Sera portal with its seeded customers

  Scenario: Every customer is listed once, normalized
    When I run the flow "flows/sera/list_customers.yaml" with the demo account
    Then the run passed
    And the output has as many customers as the portal holds
    And no customer appears twice
    And every customer has a balance in cents and a status from the closed list

  Scenario Outline: A refused sign-in is a business failure, not a timeout
    When I run the flow "flows/sera/list_customers.yaml" with the demo account but <secret> "<value>"
    Then the run failed with "<message>"
    And a screenshot of the failing page was saved

    Examples:
      | secret     | value                            | message                                       |
      | sera_password | not-the-password              | login rejected: Invalid username or password. |
      | sera_totp  | JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP | MFA code rejected: Invalid verification code. |
