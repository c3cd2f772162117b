"""Secret resolution (docs/CONTRACTS.md C4): environment `ROBOTS_SECRET_<NAME>` > encrypted vault > command
(`ROBOTS_SECRET_COMMAND`, `{name}` replaced) > defaults; a missing secret names itself and every place
looked in; the vault file is encrypted and private."""

from __future__ import annotations

import json
import os
import shlex
import stat
import sys
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

from robots.auth.vault import Vault, env_name, resolve_secrets
from robots.errors import ConfigError, InputError, SecretNotFound

SECRET = "Pa&<>\"'%+ 2026"


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No ROBOTS_* setting of the machine running the tests leaks in; the default vault lives in tmp_path."""
    for key in list(os.environ):
        if key.startswith("ROBOTS_"):
            monkeypatch.delenv(key)
    monkeypatch.setenv("ROBOTS_HOME", str(tmp_path / "home"))


@pytest.fixture
def vault(tmp_path: Path) -> Vault:
    return Vault(tmp_path / "home" / "vault", tmp_path / "home" / "vault.key")


@pytest.fixture
def command(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A secret command that knows three names and fails (exit 1) for any other; it logs each call."""
    script = tmp_path / "secret-command.py"
    calls = tmp_path / "calls.txt"
    script.write_text(
        "import sys\n"
        f"open({str(calls)!r}, 'a').write(sys.argv[1] + '\\n')\n"
        "values = {'sera_username': 'user-from-command', 'sera_password': 'password-from-command',\n"
        "          'sera_totp': 'totp-from-command'}\n"
        "if sys.argv[1] not in values:\n"
        "    sys.exit(1)\n"
        "print(values[sys.argv[1]])\n",
        encoding="utf-8",
    )
    monkeypatch.setenv("ROBOTS_SECRET_COMMAND", f"{shlex.quote(sys.executable)} {shlex.quote(str(script))} {{name}}")
    return calls


def test_env_names() -> None:
    assert env_name("sera_password") == "ROBOTS_SECRET_SERA_PASSWORD"
    assert env_name("sera-api-key") == "ROBOTS_SECRET_SERA_API_KEY"


def test_resolution_order_env_vault_command_defaults(
        vault: Vault, command: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    names = ["sera_username", "sera_password", "sera_totp", "sera_tenant_note"]
    defaults = {n: f"{n}-default" for n in names}
    vault.set("sera_username", "user-from-vault")
    vault.set("sera_password", SECRET)
    monkeypatch.setenv("ROBOTS_SECRET_SERA_USERNAME", "user-from-env")

    assert resolve_secrets(names, defaults=defaults, vault=vault) == {
        "sera_username": "user-from-env",  # in all four places: the environment wins
        "sera_password": SECRET,  # vault, command and defaults: the vault wins
        "sera_totp": "totp-from-command",  # command and defaults: the command wins
        "sera_tenant_note": "sera_tenant_note-default",  # only in the defaults
    }
    # The command is asked only for what neither the environment nor the vault had.
    assert command.read_text().splitlines() == ["sera_totp", "sera_tenant_note"]


def test_each_place_on_its_own(vault: Vault, command: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert resolve_secrets(["sera_password"], vault=vault) == {"sera_password": "password-from-command"}
    vault.set("sera_password", "from-vault")
    assert resolve_secrets(["sera_password"], vault=vault) == {"sera_password": "from-vault"}
    monkeypatch.setenv("ROBOTS_SECRET_SERA_PASSWORD", "from-env")
    assert resolve_secrets(["sera_password"], vault=vault) == {"sera_password": "from-env"}


def test_missing_secret_names_it_and_every_place(tmp_path: Path) -> None:
    with pytest.raises(SecretNotFound) as caught:
        resolve_secrets(["sera_password", "sera_totp"], defaults={"sera_totp": "x"})
    assert str(caught.value) == (
        "secret 'sera_password' not found; looked in the environment (ROBOTS_SECRET_SERA_PASSWORD), "
        f"the vault ({tmp_path / 'home' / 'vault'}), a command (ROBOTS_SECRET_COMMAND is not set)"
    )
    assert isinstance(caught.value, InputError) and caught.value.exit_code == 2


def test_missing_secrets_with_a_command_configured(vault: Vault, command: Path) -> None:
    with pytest.raises(SecretNotFound) as caught:
        resolve_secrets(["api_key", "sera_totp", "webhook_token"], vault=vault)
    assert str(caught.value) == (
        "secrets 'api_key' and 'webhook_token' not found; looked in the environment (ROBOTS_SECRET_API_KEY, "
        f"ROBOTS_SECRET_WEBHOOK_TOKEN), the vault ({vault.path}), the command in ROBOTS_SECRET_COMMAND"
    )


def test_vault_file_is_encrypted_and_private(vault: Vault) -> None:
    vault.set("sera_password", SECRET)
    vault.set("sera_totp", "JBSWY3DPEHPK3PXPSERADEMOACMETOTP")
    data = vault.path.read_bytes()
    for clear in (SECRET, json.dumps(SECRET), "JBSWY3DPEHPK3PXP", "sera_password"):
        assert clear.encode() not in data
    assert stat.S_IMODE(vault.path.stat().st_mode) == 0o600
    assert stat.S_IMODE(vault.key_path.stat().st_mode) == 0o600
    assert json.loads(Fernet(vault.key_path.read_bytes()).decrypt(data)) == {
        "sera_password": SECRET, "sera_totp": "JBSWY3DPEHPK3PXPSERADEMOACMETOTP",
    }
    assert sorted(p.name for p in vault.path.parent.iterdir()) == ["vault", "vault.key"]  # no temp file left
    assert Vault(vault.path, vault.key_path).names() == ["sera_password", "sera_totp"]
    assert vault.remove("sera_totp") is True
    assert vault.remove("sera_totp") is False
    assert vault.names() == ["sera_password"]


def test_vault_key_from_the_environment(vault: Vault, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ROBOTS_VAULT_KEY", Fernet.generate_key().decode())
    vault.set("sera_password", SECRET)
    assert not vault.key_path.exists()
    assert resolve_secrets(["sera_password"], vault=vault) == {"sera_password": SECRET}


def test_a_key_file_readable_by_others_is_refused(vault: Vault) -> None:
    vault.set("sera_password", SECRET)
    vault.key_path.chmod(0o644)
    with pytest.raises(ConfigError) as caught:
        resolve_secrets(["sera_password"], vault=vault)
    assert str(caught.value) == (f"the vault key file {vault.key_path} is readable by others (mode 644); "
                                 f"run: chmod 600 {vault.key_path}")


def test_a_vault_without_its_key(vault: Vault) -> None:
    vault.set("sera_password", SECRET)
    vault.key_path.unlink()
    with pytest.raises(ConfigError) as caught:
        vault.get("sera_password")
    assert str(caught.value) == (f"the vault {vault.path} exists but no key was found "
                                 f"(set ROBOTS_VAULT_KEY or create {vault.key_path})")


def test_a_vault_with_the_wrong_key(vault: Vault, monkeypatch: pytest.MonkeyPatch) -> None:
    vault.set("sera_password", SECRET)
    monkeypatch.setenv("ROBOTS_VAULT_KEY", Fernet.generate_key().decode())
    with pytest.raises(ConfigError) as caught:
        vault.get("sera_password")
    assert str(caught.value) == f"the vault {vault.path} cannot be decrypted with the configured key"
    assert SECRET not in str(caught.value)


def test_a_malformed_key(vault: Vault, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ROBOTS_VAULT_KEY", "not-a-key")
    with pytest.raises(ConfigError) as caught:
        vault.set("sera_password", SECRET)
    assert str(caught.value) == "the vault key is not a valid Fernet key (32 url-safe base64-encoded bytes)"
    assert not vault.path.exists()


def test_a_flows_own_command_for_a_secret_comes_before_the_global_one(
        vault: Vault, command: Path, tmp_path: Path) -> None:
    own = tmp_path / "own.py"
    own.write_text("print('totp-from-the-flows-command')\n", encoding="utf-8")
    commands = {"sera_totp": f"{shlex.quote(sys.executable)} {shlex.quote(str(own))}"}
    assert resolve_secrets(["sera_totp", "sera_password"], vault=vault, commands=commands) == {
        "sera_totp": "totp-from-the-flows-command", "sera_password": "password-from-command"}
    assert command.read_text().splitlines() == ["sera_password"]  # the global command was not asked for it


def test_a_flow_declares_optional_secrets_and_commands(tmp_path: Path) -> None:
    from robots import load_flow

    flow_file = tmp_path / "f.yaml"
    flow_file.write_text("name: f\nsecrets:\n  api_key: {command: pass show portal/api}\n"
                         "  note: {optional: true, description: anything}\n  token:\nsteps:\n  - log: hi\n")
    flow = load_flow(flow_file)
    assert flow.secrets == ("api_key", "note", "token")
    assert flow.all_optional_secrets() == ("note",)
    assert flow.all_secret_commands() == {"api_key": "pass show portal/api"}
