Feature: Sessions are reused, and a session that ends mid-flow is signed in again
  A robot keeps the portal session its sign-in left (encrypted, in the run database) and restores it on the
  next run. When the portal ends the session during a run, the robot signs in again once and resumes the
  step; the sandbox's clock is moved instead of waiting for the session to idle out.

  Background:
    Given the sandbox Sera portal
    And no session is stored for me

  Scenario: The second run restores the stored session instead of signing in
    Given I am logged in to tenant "acme" as the dispatcher
    When I run the flow "tests/packs/sera/bdd/flows/two_searches.yaml"
    And I run the flow "tests/packs/sera/bdd/flows/two_searches.yaml" again
    Then the run passed
    And the stored session was restored
    And the second factor was "restored"

  Scenario: A session that idles out mid-flow is signed in again and the step resumed
    # a dispatcher (SMS codes): the clock moves, and a TOTP code computed from real time would not match it
    Given I am logged in to tenant "acme" as the dispatcher
    And the portal's clock moves on 31 minutes before step "steps[3]"
    When I run the flow "tests/packs/sera/bdd/flows/two_searches.yaml"
    Then the run passed
    And the run signed in again mid-flow

  Scenario: A second expiry in one run is a technical failure
    Given the portal ends my session before step "steps[1]"
    And the portal's clock moves on 31 minutes before step "steps[3]"
    When I run the flow "tests/packs/sera/bdd/flows/two_searches.yaml"
    Then the run errored with "the portal ended the session again during steps[3].open; a run signs in again only once"
    And the failure class is "SessionLost"
