"""`robots schedule validate`: every problem with file:line:column, the referenced flows' problems too; nothing
starts."""

from __future__ import annotations

from pathlib import Path

from scheduler.helpers import FLOWS, robots_cli

BAD = f"""\
- name: nightly
  flow: {FLOWS}/note.yaml
  trigger: {{cron: "0 2 * * *"}}
  max_runtime: soon
  notify: {{webhooks: [ftp://example.com/x], events: [failure, boom]}}
- name: nightly
  flow: {FLOWS}/note.yaml
  trigger: {{interval: 15m}}
- name: third
  flow: {FLOWS}/note.yaml
  vars: {{colour: red}}
  secrets: [sera_pasword]
  trigger: {{interval: 5m, date: "2026-12-01T02:00:00"}}
  retries: 3
- name: fourth
  flow: broken.yaml
  trigger: {{cron: "61 * * * *", time_zone: Mars/Olympus}}
"""


def test_every_problem_is_reported_with_its_place(tmp_path: Path) -> None:
    schedule = tmp_path / "robots.yaml"
    schedule.write_text(BAD)
    (tmp_path / "broken.yaml").write_text("name: broken\nsteps:\n  - fil: {target: 'css:#q', value: x}\n")
    done = robots_cli(["schedule", "validate", str(schedule)], tmp_path)
    s = str(schedule)
    assert done.returncode == 2
    assert done.stderr.splitlines() == [
        f"{s}:3:12: [0].trigger: a cron trigger needs a time_zone (e.g. America/Chicago): 02:00 where?",
        f"{s}:4:16: [0].max_runtime: expected a duration such as 30, '90s', '15m', '2h' or '1d', got 'soon'",
        f"{s}:5:22: [0].notify.webhooks: a webhook must be an http:// or https:// URL, got 'ftp://example.com/x'",
        f"{s}:5:63: [0].notify.events.1: input should be 'failure', 'recovery' or 'drift', got 'boom'",
        f"{s}:6:9: [1].name: robot 'nightly' is defined twice (first in {s}:1)",
        f"{s}:13:12: [2].trigger: a trigger needs exactly one of cron, interval or date (got interval, date)",
        f"{s}:14:3: [2]: unknown key 'retries' (did you mean 'retry'?)",
        f"{s}:17:44: [3].trigger.time_zone: unknown time zone (use an IANA name such as America/Chicago)",
        f"{s}:16:9: [3].flow: the flow broken.yaml is invalid (1 problem, listed below)",
        f"{tmp_path / 'broken.yaml'}:3:5: steps[0]: unknown step 'fil' (did you mean 'fill'?)",
        "10 problems found",
    ]


def test_vars_and_secrets_are_checked_against_the_flow(tmp_path: Path) -> None:
    schedule = tmp_path / "robots.yaml"
    schedule.write_text(f"""\
- name: third
  flow: {FLOWS}/note.yaml
  vars: {{colour: red}}
  secrets: [sera_pasword]
  trigger: {{interval: 5m}}
""")
    done = robots_cli(["schedule", "validate", str(schedule)], tmp_path)
    assert done.returncode == 2
    assert done.stderr.splitlines() == [
        f"{schedule}:3:9: [0].vars: unknown var 'colour'; the flow declares: none",
        f"{schedule}:4:13: [0].secrets: the flow does not use a secret 'sera_pasword'; it uses: none",
        "2 problems found",
    ]


def test_the_example_schedule_is_valid() -> None:
    root = Path(__file__).resolve().parents[2]
    done = robots_cli(["schedule", "validate", str(root / "schedules")], root / ".robots")
    assert (done.returncode, done.stderr) == (0, "2 robots valid in 1 file\n")


def test_cron_weekdays_count_as_in_crontab() -> None:
    """0 and 7 are Sunday, as in crontab (APScheduler 3's own from_crontab takes 0 as Monday)."""
    from datetime import datetime
    from zoneinfo import ZoneInfo

    from robots.scheduler.config import Trigger

    chicago = ZoneInfo("America/Chicago")
    saturday = datetime(2026, 11, 28, 3, 0, tzinfo=chicago)

    def next_fire(cron: str) -> str:
        trigger = Trigger(cron=cron, time_zone="America/Chicago").build()
        return f"{trigger.get_next_fire_time(None, saturday):%a %d %H:%M}"

    assert next_fire("0 2 * * 1-5") == "Mon 30 02:00"
    assert next_fire("0 2 * * 0") == "Sun 29 02:00"
    assert next_fire("0 2 * * 7") == "Sun 29 02:00"
    assert next_fire("30 6 * * 6") == "Sat 28 06:30"
    assert next_fire("0 2 * * mon-fri") == "Mon 30 02:00"


def test_a_list_var_is_parsed_and_a_bad_one_is_refused_at_its_place(tmp_path: Path) -> None:
    """A robot's vars are coerced as the command line's are (robots.flow.vars); every problem is reported."""
    flow = tmp_path / "order.yaml"
    flow.write_text("name: order\nvars:\n  lines: {required: true, type: list}\n  count: {default: 1, type: integer}\n"
                    "  email: {required: true}\nsteps:\n  - log: '{{ vars.lines | length }}'\n")
    schedule = tmp_path / "robots.yaml"
    schedule.write_text("""\
- name: good
  flow: order.yaml
  vars: {lines: '[{code: DIA-100, quantity: 1}]', email: a@example.com}
  trigger: {interval: 1h}
- name: bad
  flow: order.yaml
  vars:
    lines: '[{code: DIA-100, quantity: 1}'
    count: many
  trigger: {interval: 1h}
""")
    done = robots_cli(["schedule", "validate", str(schedule)], tmp_path)
    assert done.returncode == 2
    assert done.stderr.splitlines() == [
        f"{schedule}:8:12: [1].vars.lines: var 'lines' must be a list in JSON or YAML flow syntax, like [a, b] or "
        "[{code: DIA-100, quantity: 1}]; '[{code: DIA-100, quantity: 1}' is not: at column 30: YAML syntax error: "
        "expected ',' or ']', but got '<stream end>'",
        f"{schedule}:9:12: [1].vars.count: var 'count' must be an integer, got 'many'",
        f"{schedule}:8:5: [1].vars: var 'email' is required",
        "3 problems found",
    ]


def test_notification_targets_must_resolve_in_the_words_the_start_uses(tmp_path: Path) -> None:
    """Issue 18: a robot that signs its webhooks validated and then refused to start. Validate now checks what the
    start needs: the signing secret, each webhook's host (the outbound allow-list's check) and the notify command."""
    home = tmp_path / "home"
    schedule = tmp_path / "robots.yaml"
    schedule.write_text(f"""\
- name: nightly
  flow: {FLOWS}/note.yaml
  trigger: {{interval: 1h}}
  notify:
    webhooks: ['http://127.0.0.1:9/hooks', 'https://hooks.invalid/robots']
    command: scripts/page-oncall --urgent
- name: hourly
  flow: {FLOWS}/note.yaml
  trigger: {{interval: 1h}}
  notify: {{command: no-such-pager-program}}
""")
    secret = ("webhooks are signed with the secret 'webhook_secret' (HMAC-SHA256), and secret 'webhook_secret' not "
              f"found; looked in the environment (ROBOTS_SECRET_WEBHOOK_SECRET), the vault ({home}/vault), a command "
              "(ROBOTS_SECRET_COMMAND is not set); set it, e.g. robots secrets set webhook_secret")
    expected = [
        f"{schedule}:5:15: [0].notify.webhooks: {secret}",
        f"{schedule}:5:16: [0].notify.webhooks.0: webhook URL http://127.0.0.1:9/hooks resolves to 127.0.0.1, a "
        "loopback address; an operator can allow it with ROBOTS_WEBHOOK_ALLOW_NETWORKS",
        f"{schedule}:5:44: [0].notify.webhooks.1: webhook URL https://hooks.invalid/robots does not resolve "
        "(hooks.invalid is not a known host name)",
        f"{schedule}:6:14: [0].notify.command: the notify command's program scripts/page-oncall is not an executable "
        f"file (looked for {tmp_path}/scripts/page-oncall)",
        f"{schedule}:10:21: [1].notify.command: the notify command's program 'no-such-pager-program' is not in any "
        "folder of PATH",
    ]
    validated = robots_cli(["schedule", "validate", str(schedule)], home)
    assert (validated.returncode, validated.stderr.splitlines()) == (2, [*expected, "5 problems found"])
    started = robots_cli(["schedule", "run", str(schedule)], home)
    assert (started.returncode, started.stderr.splitlines()) == (2, [*expected, "5 problems found; nothing was run."])

    (tmp_path / "scripts").mkdir()
    (tmp_path / "scripts" / "page-oncall").write_text("#!/bin/sh\ncat >/dev/null\n")
    (tmp_path / "scripts" / "page-oncall").chmod(0o755)
    schedule.write_text(schedule.read_text().replace("no-such-pager-program", "cat"))
    env = {"ROBOTS_SECRET_WEBHOOK_SECRET": "s3cret", "ROBOTS_WEBHOOK_ALLOW_NETWORKS": "127.0.0.0/8"}
    done = robots_cli(["schedule", "validate", str(schedule)], home, env=env)
    assert (done.returncode, done.stderr) == (2, (
        f"{schedule}:5:44: [0].notify.webhooks.1: webhook URL https://hooks.invalid/robots does not resolve "
        "(hooks.invalid is not a known host name)\n1 problem found\n"))
    schedule.write_text(schedule.read_text().replace(", 'https://hooks.invalid/robots'", ""))
    done = robots_cli(["schedule", "validate", str(schedule)], home, env=env)
    assert (done.returncode, done.stderr) == (0, "2 robots valid in 1 file\n")
