Feature: A scheduled robot never overlaps itself
  The scheduler runs a robot at each fire of its trigger, but never twice at once: a fire that comes while the
  robot's last run is still going is recorded as a skipped run, not started as a second browser.

  Scenario: A robot that runs longer than its interval skips the fires in between
    Given the sandbox Sera portal
    And the schedule:
      """
      - name: holder
        flow: tests/packs/sera/bdd/flows/hold_briefly.yaml
        trigger: {interval: 2}
        misfire_grace: 30
      """
    When the scheduler runs until robot "holder" has finished 2 runs
    Then every run of robot "holder" passed
    And no two runs of robot "holder" overlap
    And a fire of robot "holder" while it ran was recorded "skipped (still running)"
