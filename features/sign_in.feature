@smoke
Feature: Signing in to Sera with every kind of second factor
  Robots sign in unattended: a password, then whatever second factor the account uses (an authenticator
  code, a code sent by SMS or e-mail and read from the outbox, none), or single sign-on through the
  identity provider. A refused sign-in is a business failure with the portal's own words, never a timeout.

  Background:
    Given the sandbox Sera portal
    And no session is stored for me

  Scenario Outline: <user> signs in with <factor>
    Given I am logged in to tenant "acme" as "<user>"
    When I run the flow "flows/sera/sign_in.yaml"
    Then the run passed
    And the second factor was "<used>"

    Examples:
      | user  | factor                          | used |
      | demo  | an authenticator (TOTP) code    | totp |
      | dina  | a code sent by SMS              | code |
      | casey | a code sent by e-mail           | code |
      | tom   | no second factor                | none |

  Scenario: A dispatcher signs in through single sign-on
    Given I sign in with SSO as "sage"
    When I open "/customers?q=smith"
    Then "customers.summary" contains "customers"
    And the portal saw 1 requests to "POST /idp/authorize"

  Scenario Outline: A refused sign-in is a business failure with the portal's message
    Given I am logged in to tenant "acme" as "<user>"
    And the account's <secret> is "<value>"
    When I run the flow "<flow>"
    Then the run failed with "<message>"
    And a screenshot of the failing page was saved

    Examples:
      | user | flow                          | secret            | value                            | message                                                                                  |
      | tom  | flows/sera/sign_in.yaml       | sera_password     | not-the-password                 | login rejected: Invalid username or password.                                            |
      | demo | flows/sera/sign_in.yaml       | sera_totp         | KRUGKIDROVUWG2ZAMJZG653OEBTG6ZDY | MFA code rejected: Invalid verification code.                                            |
      | sage | flows/sera/sign_in_sso.yaml   | sera_sso_password | not it                           | SSO login rejected: Incorrect e-mail or password.                                        |
      | pat  | flows/sera/sign_in.yaml       | sera_password     | Old password 2025!               | the portal demands a password change before this account can sign in: Your password has expired |
