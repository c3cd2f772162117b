"""A portal pack declares its own API scopes (robots.packs: PortalPack.scopes) beside its routes: the API knows the
core's generic scopes plus every installed pack's, a pack's route is guarded by its own scope, `check_scopes` (and
so `robots api token create --scope`) accepts and suggests over the union, and two packs declaring one scope name is
an error naming both.

The packs are installed the way pip installs one, in-process: a folder holding the package and its `.dist-info`
with a `robots.portals` entry point, put on sys.path for the test only (and the discovery's cache cleared)."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from robots import packs
from robots.api import ApiSettings, create_app
from robots.api.tokens import CORE_SCOPES, check_scopes, known_scopes, session_scopes
from robots.errors import ConfigError, InputError
from robots.testing.helpers import cli_env

from .conftest import ApiClient, bearer, token
from .test_contracts import envelope

ORDERS = '''
    """The Acme portal's API for robots: one route, guarded by the pack's own scope."""
    from robots.packs import PortalPack


    def _routes():
        from fastapi import APIRouter, Depends

        from robots.api.tokens import Principal, need

        router = APIRouter()

        @router.get("/acme/orders")
        def orders(principal: Principal = Depends(need("acme:orders:read"))):
            return {"orders": [], "caller": principal.label}

        return router


    PACK = PortalPack(name="acme", scopes={"acme:orders:read": "list Acme's orders"}, api_routes=_routes,
                      origin="entry point acme_orders:PACK")
'''
#: a pack whose scope takes a name the Sera pack declares
CLASH = '''
    from robots.packs import PortalPack

    PACK = PortalPack(name="clash", scopes={"customers:read": "read clash customers"},
                      origin="entry point clash_scopes:PACK")
'''
#: a pack that declares one of the core's scopes as its own
CORE_CLASH = '''
    from robots.packs import PortalPack

    PACK = PortalPack(name="grabby", scopes={"admin": "everything, says grabby"}, origin="entry point grabby:PACK")
'''


def install(root: Path, module: str, source: str) -> Path:
    """A distribution as pip leaves one in site-packages: the module and its .dist-info with the entry point."""
    root.mkdir(parents=True, exist_ok=True)
    (root / f"{module}.py").write_text(textwrap.dedent(source).lstrip())
    info = root / f"{module}-0.1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {module}\nVersion: 0.1.0\n")
    (info / "entry_points.txt").write_text(f"[robots.portals]\n{module.split('_')[0]} = {module}:PACK\n")
    return root


@pytest.fixture
def with_pack(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[[str, str], Path]]:
    """Installs packs for this test only: `with_pack(module, source)` returns the folder to put on PYTHONPATH."""
    folder = tmp_path / "site"

    def add(module: str, source: str) -> Path:
        install(folder, module, source)
        monkeypatch.syspath_prepend(str(folder))
        packs.installed.cache_clear()
        return folder

    yield add
    monkeypatch.undo()
    packs.installed.cache_clear()


def test_a_packs_scope_guards_its_route_and_the_sera_scopes_still_guard_seras(
        with_pack: Callable[[str, str], Path], make_client: Callable[..., ApiClient]) -> None:
    with_pack("acme_orders", ORDERS)
    client = make_client()
    r = client.get("/acme/orders", headers=bearer(token(client, "acme:orders:read")))
    assert (r.status_code, r.json()) == (200, {"orders": [], "caller": "tester"})
    assert client.get("/acme/orders", headers=bearer(token(client, "admin"))).status_code == 200
    envelope(client.get("/acme/orders", headers=bearer(token(client, "runs:read", "customers:read"))), 403,
             "missing_scope", "this token lacks the scope 'acme:orders:read'")
    # a Sera route refuses the Acme scope before any browser starts
    envelope(client.get("/customers", headers=bearer(token(client, "acme:orders:read"))), 403, "missing_scope",
             "this token lacks the scope 'customers:read'")


def test_the_known_scopes_are_the_cores_then_each_packs(with_pack: Callable[[str, str], Path]) -> None:
    with_pack("acme_orders", ORDERS)
    known = list(known_scopes())
    assert known[:len(CORE_SCOPES)] == list(CORE_SCOPES)
    assert known[len(CORE_SCOPES)] == "acme:orders:read" and "customers:read" in known[len(CORE_SCOPES):]
    assert "customers:read" not in CORE_SCOPES and "flows:run" in CORE_SCOPES
    assert known_scopes()["acme:orders:read"] == "list Acme's orders"
    assert "acme:orders:read" in session_scopes() and "customers:read" in session_scopes()
    assert not {"admin", "audit:read", "sessions:create", "flows:run"} & set(session_scopes())
    assert check_scopes(["acme:orders:read", "runs:read", "acme:orders:read"]) == ("acme:orders:read", "runs:read")
    with pytest.raises(InputError) as e:
        check_scopes(["acme:order:read"])
    assert str(e.value) == ("unknown scope acme:order:read (did you mean 'acme:orders:read'?); "
                            f"known: {', '.join(known)}")


def test_robots_api_token_create_grants_a_packs_scope(with_pack: Callable[[str, str], Path], tmp_path: Path) -> None:
    site = with_pack("acme_orders", ORDERS)
    env = cli_env(tmp_path / "home", PYTHONPATH=str(site))
    made = subprocess.run([sys.executable, "-m", "robots.cli", "api", "token", "create", "--scope", "acme:orders:read",
                           "--scope", "customers:read"], capture_output=True, text=True, env=env, timeout=60)
    assert made.returncode == 0, made.stderr
    assert made.stdout.startswith("rbt_") and "(acme:orders:read, customers:read), expires " in made.stderr
    bad = subprocess.run([sys.executable, "-m", "robots.cli", "api", "token", "create", "--scope", "acme:order:read"],
                         capture_output=True, text=True, env=env, timeout=60)
    assert (bad.returncode, bad.stdout) == (2, "")
    assert bad.stderr.startswith("error: unknown scope acme:order:read (did you mean 'acme:orders:read'?); known: "
                                 "flows:run, runs:read, webhooks:manage, audit:read, sessions:create, admin, "
                                 "acme:orders:read, customers:read, ")


def test_two_packs_declaring_one_scope_is_an_error_naming_both(with_pack: Callable[[str, str], Path],
                                                              tmp_path: Path) -> None:
    with_pack("clash_scopes", CLASH)
    message = ("the API scope 'customers:read' is declared by two portal packs: clash (entry point clash_scopes:PACK) "
               "and sera (entry point robots.packs.sera:PACK)")
    with pytest.raises(ConfigError) as e:
        known_scopes()
    assert str(e.value) == message
    with pytest.raises(ConfigError) as e:
        create_app(ApiSettings(database_url=f"sqlite:///{tmp_path}/robots.db", home=tmp_path / "home"))
    assert str(e.value) == message


def test_a_pack_cannot_declare_a_core_scope(with_pack: Callable[[str, str], Path]) -> None:
    with_pack("grabby", CORE_CLASH)
    with pytest.raises(ConfigError) as e:
        check_scopes(["runs:read"])
    assert str(e.value) == ("the API scope 'admin' of portal pack grabby (entry point grabby:PACK) is one of the "
                            "core's; a pack declares only its own")


#: a pack whose route needs a scope nobody declares
STRAY = '''
    from robots.packs import PortalPack


    def _routes():
        from fastapi import APIRouter, Depends

        from robots.api.tokens import need

        router = APIRouter()

        @router.get("/stray")
        def stray(principal=Depends(need("stray:read"))):
            return {}

        return router


    PACK = PortalPack(name="stray", api_routes=_routes, origin="entry point stray_routes:PACK")
'''


def test_a_route_needing_an_undeclared_scope_is_refused(with_pack: Callable[[str, str], Path], tmp_path: Path) -> None:
    with_pack("stray_routes", STRAY)
    with pytest.raises(ConfigError) as e:
        create_app(ApiSettings(database_url=f"sqlite:///{tmp_path}/robots.db", home=tmp_path / "home"))
    assert str(e.value) == ("the route GET /stray needs the API scope 'stray:read', which neither the core nor an "
                            "installed portal pack declares (robots.packs: PortalPack.scopes)")
