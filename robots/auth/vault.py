"""Secrets (docs/CONTRACTS.md C4): looked up by name in the environment (`ROBOTS_SECRET_<NAME>`), then in the
encrypted vault file (Fernet; key from ROBOTS_VAULT_KEY or a 0600 key file), then from a configured command
(`ROBOTS_SECRET_COMMAND`, with `{name}` replaced). A secret found nowhere is an input error."""

from __future__ import annotations

import json
import os
import shlex
import stat
import subprocess
from collections.abc import Mapping
from pathlib import Path

from robots.errors import ConfigError, SecretNotFound
from robots.settings import settings


def env_name(name: str) -> str:
    return "ROBOTS_SECRET_" + name.upper().replace("-", "_")


class Vault:
    """The encrypted secrets file. Values are never written or logged in clear."""

    def __init__(self, path: Path, key_path: Path):
        self.path = path
        self.key_path = key_path

    @classmethod
    def default(cls, home: Path | None = None) -> Vault:
        home = home or settings().home
        return cls(home / "vault", home / "vault.key")

    def key(self, create: bool = False) -> bytes | None:
        """The Fernet key: ROBOTS_VAULT_KEY, else the 0600 key file (made when `create`), else None."""
        from cryptography.fernet import Fernet

        given = settings().vault_key
        key = given.get_secret_value() if given else None
        if not key:
            if self.key_path.exists():
                mode = stat.S_IMODE(self.key_path.stat().st_mode)
                if mode & 0o077:
                    raise ConfigError(f"the vault key file {self.key_path} is readable by others "
                                      f"(mode {mode:o}); run: chmod 600 {self.key_path}")
                key = self.key_path.read_text().strip()
            elif create:
                self.key_path.parent.mkdir(parents=True, exist_ok=True)
                key = Fernet.generate_key().decode()
                try:
                    fd = os.open(self.key_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
                except FileExistsError:  # another process made it meanwhile: use theirs
                    return self.key(create=False)
                with os.fdopen(fd, "w") as f:
                    f.write(key)
            else:
                return None
        return key.encode()

    def _fernet(self, create: bool = False):
        from cryptography.fernet import Fernet

        key = self.key(create)
        if key is None:
            return None
        try:
            return Fernet(key)
        except ValueError:
            raise ConfigError("the vault key is not a valid Fernet key (32 url-safe base64-encoded bytes)") from None

    def _read(self) -> dict[str, str]:
        if not self.path.exists():
            return {}
        fernet = self._fernet()
        if fernet is None:
            raise ConfigError(f"the vault {self.path} exists but no key was found "
                              f"(set ROBOTS_VAULT_KEY or create {self.key_path})")
        from cryptography.fernet import InvalidToken

        try:
            return json.loads(fernet.decrypt(self.path.read_bytes()))
        except InvalidToken:
            raise ConfigError(f"the vault {self.path} cannot be decrypted with the configured key") from None

    def get(self, name: str) -> str | None:
        return self._read().get(name)

    def names(self) -> list[str]:
        return sorted(self._read())

    def set(self, name: str, value: str) -> None:
        data = self._read()
        data[name] = value
        self._write(data)

    def remove(self, name: str) -> bool:
        data = self._read()
        found = data.pop(name, None) is not None
        if found:
            self._write(data)
        return found

    def _write(self, data: dict[str, str]) -> None:
        fernet = self._fernet(create=True)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_suffix(".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as f:
            f.write(fernet.encrypt(json.dumps(data).encode()))
        os.replace(tmp, self.path)


def resolve_secrets(names: list[str] | tuple[str, ...], *, defaults: Mapping[str, str] | None = None,
                    vault: Vault | None = None, environ: Mapping[str, str] | None = None,
                    optional: tuple[str, ...] | list[str] = (),
                    commands: Mapping[str, str] | None = None) -> dict[str, str]:
    """Every named secret's value. `defaults` (e.g. the bundled sandbox's demo account) come last.
    An `optional` secret found nowhere is an empty string. `commands` are a flow's own commands for some
    secrets (`command:` in its `secrets`), tried before ROBOTS_SECRET_COMMAND."""
    environ = os.environ if environ is None else environ
    vault = vault or Vault.default()
    command = settings(environ).secret_command
    out: dict[str, str] = {}
    missing = []
    for name in names:
        value = environ.get(env_name(name))
        if value is None:
            value = vault.get(name)
        if value is None and commands and name in commands:
            value = _from_command(commands[name], name)
        if value is None and command:
            value = _from_command(command, name)
        if value is None and defaults:
            value = defaults.get(name)
        if value is None and name in optional:
            value = ""
        if value is None:
            missing.append(name)
        else:
            out[name] = value
    if missing:
        places = (f"the environment ({', '.join(env_name(n) for n in missing)}), the vault ({vault.path}), "
                  + ("the command in ROBOTS_SECRET_COMMAND" if command
                     else "a command (ROBOTS_SECRET_COMMAND is not set)"))
        quoted = [f"'{n}'" for n in missing]
        which = quoted[0] if len(quoted) == 1 else ", ".join(quoted[:-1]) + " and " + quoted[-1]
        raise SecretNotFound(f"secret{'s' if len(missing) > 1 else ''} {which} not found; looked in {places}")
    return out


def _from_command(command: str, name: str) -> str | None:
    argv = [part.replace("{name}", name) for part in shlex.split(command)]
    try:
        done = subprocess.run(argv, capture_output=True, text=True, timeout=30, check=False)
    except (OSError, subprocess.TimeoutExpired) as e:
        raise ConfigError(f"the secret command {argv[0]!r} failed for '{name}': {type(e).__name__}") from None
    if done.returncode != 0:
        return None
    return done.stdout.rstrip("\n")
