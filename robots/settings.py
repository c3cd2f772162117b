"""Every `ROBOTS_*` environment variable, in one typed object (pydantic-settings): its type, default and meaning.

Code reads a setting through `settings()` (never `os.environ` itself; tests/test_settings.py checks it), which
builds the object from the current environment each time it is called: a test that sets a variable, or a child
process given its own environment, sees the new value. Building it is cached per distinct set of `ROBOTS_*`
values, so a read costs a scan of the environment (microseconds), not a validation.

A bad value is a ConfigError (exit code 2) naming the variable and what it expects, e.g.
`ROBOTS_MAX_BROWSERS must be a whole number of 1 or more, got 'two'`.

Two families are not fields here: the secrets `ROBOTS_SECRET_<NAME>` (a name per secret, read by the secret
lookup, robots.auth.vault.resolve_secrets) and the variables robots sets for the processes it starts
(`CHILD_VARIABLES`). `robots settings --format markdown` prints the table README.md shows (a test keeps it equal).
"""

from __future__ import annotations

import contextvars
import functools
import ipaddress
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_core import PydanticCustomError
from pydantic_settings import BaseSettings, EnvSettingsSource, PydanticBaseSettingsSource, SettingsConfigDict

__all__ = ["CHILD_VARIABLES", "FAMILIES", "PREFIX", "Settings", "settings", "settings_table"]

PREFIX = "ROBOTS_"
MIB = 1024 * 1024
#: the browser kinds (robots.browser.launch.KINDS, which imports this module's settings)
BROWSER_KINDS = ("chromium", "undetected", "remote")

#: variables named per item, read where the item is looked up (not fields of Settings)
FAMILIES = {
    "ROBOTS_SECRET_<NAME>": "the secret <name> (upper case, - as _), looked up before the vault "
                            "(robots.auth.vault; docs/CONTRACTS.md C4)",
}
#: variables robots sets for the processes it starts (it never reads them from its own environment)
CHILD_VARIABLES = {
    "ROBOTS_EVENT": "for a robot's notify command: the event (failed, recovered, ...)",
    "ROBOTS_ROBOT": "for a robot's notify command: the robot's name",
    "ROBOTS_RUN_ID": "for a robot's notify command: the run's id",
}


def _invalid(message: str) -> PydanticCustomError:
    return PydanticCustomError("robots_setting", message)


def _text(value: Any) -> str:
    return str(value).strip()


def _whole(name: str, value: Any, expects: str, low: int = 1, high: int | None = None) -> int:
    text = _text(value)
    if not text.isdigit() or int(text) < low or (high is not None and int(text) > high):
        raise _invalid(f"{name} must be {expects}, got {text!r}")
    return int(text)


def _listed(value: Any) -> tuple[str, ...]:
    if isinstance(value, (list, tuple)):
        return tuple(value)
    return tuple(p.strip() for p in str(value).split(",") if p.strip())


#: the environment Settings() reads while settings() builds it (None: os.environ)
_ENVIRON: contextvars.ContextVar[Mapping[str, str] | None] = contextvars.ContextVar("robots_settings_environ",
                                                                                    default=None)


class _GivenEnvironment(EnvSettingsSource):
    """The environment source over a given mapping (settings(environ=...)) instead of os.environ."""

    def __init__(self, settings_cls: type[BaseSettings], environ: Mapping[str, str]) -> None:
        self._given = dict(environ)
        super().__init__(settings_cls)

    def _load_env_vars(self) -> Mapping[str, str | None]:
        from pydantic_settings.sources.utils import parse_env_vars

        return parse_env_vars(self._given, self.case_sensitive, self.env_ignore_empty, self.env_parse_none_str)


class Settings(BaseSettings):
    """The `ROBOTS_*` settings. Field `x` is the variable `ROBOTS_X`; an empty value counts as unset."""

    model_config = SettingsConfigDict(env_prefix=PREFIX, case_sensitive=False, env_ignore_empty=True,
                                      frozen=True, extra="ignore", enable_decoding=False,
                                      validate_default=False)

    # -- where things are
    home: Path = Field(Path(".robots"), description="the home folder: run folders, the vault and its key file, "
                       "uploads, the browser pool's slot files")
    database_url: str | None = Field(None, description="the run store (SQLAlchemy URL; `memory://` keeps nothing); "
                                     "unset: `./.robots/robots.db` (SQLite)")
    vault_key: SecretStr | None = Field(None, description="the vault's Fernet key; unset: the 0600 key file "
                                        "`<home>/vault.key`")
    secret_command: str | None = Field(None, description="a command that prints a secret (`{name}` is replaced), "
                                       "tried after the environment and the vault")
    # -- the portal
    portal_url: str | None = Field(None, description="the portal's base URL (`--portal-url` wins); unset: the "
                                   "profile's `url` (its `{tenant}` filled from `ROBOTS_PORTAL_TENANT` or the "
                                   "profile's `tenant`), else the sandbox the portal's pack brings")
    portal_tenant: str | None = Field(None, description="the portal's tenant (fills the profile's URL template)")
    portal_time_zone: str | None = Field(None, description="the portal's time zone (IANA name); unset: the "
                                         "profile's")
    sandbox_size: str | None = Field(None, description="the bundled sandbox's data size (small or default) when "
                                     "a run starts it; unset: default")
    sandbox_cache: Path | None = Field(None, description="where the sandbox keeps its generated data and its "
                                       "single-page app's build; unset: `~/.cache/robots/sandbox`")
    sandbox_app_latency: str = Field("150-400", description="the delay of each data call of the sandbox's single-page "
                                     "app (`/app/`), in ms: MIN-MAX (drawn per call, seeded) or one number; 0: none")
    # -- the browser
    browser: str | None = Field(None, description="the browser kind: chromium, undetected or remote (`--browser` "
                                "wins); unset: the flow's `browser.kind`, else chromium")
    grid_url: str | None = Field(None, description="the Selenium Grid of the remote browser (`--grid-url` wins)")
    max_browsers: int = Field(2, description="at most this many Chromes at once per home (the browser pool)")
    chrome_binary: str | None = Field(None, description="the Chrome binary; unset: the flow's `browser.binary`, "
                                      "else chromium on PATH")
    chromedriver: str | None = Field(None, description="the chromedriver binary; unset: chromedriver on PATH")
    chromedriver_port: int = Field(0, description="chromedriver's port (where a firewall allows only one); 0: a "
                                   "free one")
    grid_jar: Path | None = Field(None, description="the Selenium Grid jar of `robots sandbox grid`; unset: the "
                                  "one scripts/setup.sh installed")
    # -- the API
    api_portals: tuple[str, ...] = Field((), description="more portals `POST /sessions` may sign in to "
                                         "(comma-separated `URL` or `TENANT=URL`)")
    api_flows: tuple[str, ...] = Field((), description="the flows `POST /flows/{name}/runs` may run "
                                       "(comma-separated globs, e.g. `acme/list_*`); unset: none")
    api_files_dir: Path | None = Field(None, description="a folder whose files API runs may be given by path; "
                                       "unset: uploads only")
    api_max_body_bytes: int = Field(MIB, description="the largest API request body, in bytes")
    api_max_upload_bytes: int = Field(25 * MIB, description="the largest `POST /uploads` body, in bytes")
    api_anonymous_rate_limit: int = Field(30, description="API requests without a valid token, per client "
                                          "address and minute")
    api_ip_rate_limit: int = Field(600, description="API requests per client address and minute")
    # -- outbound webhooks
    webhook_allow_networks: tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...] = Field(
        (), description="private networks webhooks may reach besides public addresses (comma-separated CIDRs)")
    webhook_backoff: float = Field(5.0, description="the scheduler's first webhook retry wait, seconds (doubles per "
                                   "failed attempt)")
    # -- set by `robots bdd` for its pytest process
    bdd_portal_url: str | None = Field(None, description="set by `robots bdd`: the portal scenarios run against; "
                                       "unset: the bundled sandbox")
    bdd_base: Path | None = Field(None, description="set by `robots bdd`: where features' relative paths start; "
                                  "unset: pytest's rootdir")
    bdd_events: Path | None = Field(None, description="set by `robots bdd`: the JSON-lines file of scenario and step "
                                    "events")

    @classmethod
    def settings_customise_sources(cls, settings_cls: type[BaseSettings], init_settings: PydanticBaseSettingsSource,
                                   env_settings: PydanticBaseSettingsSource,
                                   dotenv_settings: PydanticBaseSettingsSource,
                                   file_secret_settings: PydanticBaseSettingsSource,
                                   ) -> tuple[PydanticBaseSettingsSource, ...]:
        # No .env file, no secrets directory: the environment only (settings(environ) gives another one).
        given = _ENVIRON.get()
        return init_settings, env_settings if given is None else _GivenEnvironment(settings_cls, given)

    # -- parsing: each bad value says which variable and what it expects
    @field_validator("max_browsers", mode="before")
    @classmethod
    def _max_browsers(cls, value: Any) -> int:
        return _whole("ROBOTS_MAX_BROWSERS", value, "a whole number of 1 or more")

    @field_validator("api_max_body_bytes", "api_max_upload_bytes", "api_anonymous_rate_limit", "api_ip_rate_limit",
                     mode="before")
    @classmethod
    def _api_limits(cls, value: Any, info: Any) -> int:
        return _whole(PREFIX + info.field_name.upper(), value, "a whole number above 0")

    @field_validator("chromedriver_port", mode="before")
    @classmethod
    def _port(cls, value: Any) -> int:
        return _whole("ROBOTS_CHROMEDRIVER_PORT", value, "a port number", 1, 65535)

    @field_validator("browser", mode="before")
    @classmethod
    def _browser(cls, value: Any) -> str:
        if _text(value) not in BROWSER_KINDS:
            raise _invalid(f"ROBOTS_BROWSER: unknown browser kind {_text(value)!r}; use one of "
                           f"{', '.join(BROWSER_KINDS)}")
        return _text(value)

    @field_validator("webhook_backoff", mode="before")
    @classmethod
    def _backoff(cls, value: Any) -> float:
        try:
            seconds = float(_text(value))
        except ValueError:
            seconds = -1.0
        if not seconds >= 0 or seconds == float("inf"):
            raise _invalid(f"ROBOTS_WEBHOOK_BACKOFF must be a number of seconds (0 or more), got {_text(value)!r}")
        return seconds

    @field_validator("api_portals", mode="before")
    @classmethod
    def _portals(cls, value: Any) -> tuple[str, ...]:
        return tuple(u.rstrip("/") for u in _listed(value))

    @field_validator("api_flows", mode="before")
    @classmethod
    def _flows(cls, value: Any) -> tuple[str, ...]:
        return _listed(value)

    @field_validator("webhook_allow_networks", mode="before")
    @classmethod
    def _networks(cls, value: Any) -> tuple[Any, ...]:
        networks = []
        for item in _listed(value):
            try:
                networks.append(ipaddress.ip_network(item, strict=False) if isinstance(item, str) else item)
            except ValueError:
                raise _invalid(f"ROBOTS_WEBHOOK_ALLOW_NETWORKS: {item!r} is not a network (a CIDR such as "
                               "10.1.0.0/16, comma-separated)") from None
        return tuple(networks)


def _key(environ: Mapping[str, str]) -> tuple[tuple[str, str], ...]:
    """The variables a Settings is built from (the secrets' values stay out of the cache key)."""
    return tuple(sorted((k, v) for k, v in environ.items()
                        if k.upper().startswith(PREFIX) and not k.upper().startswith("ROBOTS_SECRET_")
                        or k.upper() == "ROBOTS_SECRET_COMMAND"))


@functools.lru_cache(maxsize=32)
def _build(key: tuple[tuple[str, str], ...]) -> Settings:
    from robots.errors import ConfigError

    token = _ENVIRON.set(dict(key))
    try:
        return Settings()
    except ValidationError as e:
        messages = [err["msg"] if err["type"] == "robots_setting" else
                    f"{PREFIX}{'_'.join(str(p) for p in err['loc']).upper()}: {err['msg']}" for err in e.errors()]
        raise ConfigError("; ".join(messages)) from None
    finally:
        _ENVIRON.reset(token)


def settings(environ: Mapping[str, str] | None = None) -> Settings:
    """The settings of `environ` (default: this process's environment, read now). ConfigError for a bad value."""
    return _build(_key(os.environ if environ is None else environ))


def settings_table(fmt: str = "markdown") -> str:
    """Every variable with its default and meaning: a Markdown table (README.md's), or `text`."""
    rows = []
    for name, info in Settings.model_fields.items():
        default = info.default
        if isinstance(default, tuple):
            default = ",".join(map(str, default)) if default else None
        shown = "(unset)" if default is None else f"`{default}`"
        rows.append((PREFIX + name.upper(), shown, info.description or ""))
    rows += [(name, "(unset)", meaning) for name, meaning in FAMILIES.items()]
    rows += [(name, "(set by robots)", meaning) for name, meaning in CHILD_VARIABLES.items()]
    if fmt == "text":
        width = max(len(r[0]) for r in rows)
        return "".join(f"{n:<{width}}  {d:<14}  {m}\n" for n, d, m in rows)
    lines = ["| Variable | Default | Meaning |", "|---|---|---|"]
    lines += [f"| `{n}` | {d} | {m.replace('|', '&#124;')} |" for n, d, m in rows]
    return "\n".join(lines) + "\n"
