"""How the core finds a portal's parts through packs (robots.packs): the profile (the pack's, overlaid by the
project's portals/<name>.yaml), its URL, its record models, and flow steps added from outside robots/steps/."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from robots.errors import ConfigError
from robots.portals import load_profile, open_portal
from robots.scrape import contracts
from robots.steps.base import REGISTRY, StepArgs, registering, step


def project(tmp_path: Path, files: dict[str, str]) -> Path:
    for rel, text in files.items():
        f = tmp_path / rel
        f.parent.mkdir(parents=True, exist_ok=True)
        f.write_text(textwrap.dedent(text).lstrip())
    flows = tmp_path / "flows" / "shop"
    flows.mkdir(parents=True, exist_ok=True)
    return flows


@pytest.fixture(autouse=True)
def _no_portal_env(monkeypatch):
    for name in ("ROBOTS_PORTAL_URL", "ROBOTS_PORTAL_TENANT", "ROBOTS_PORTAL_TIME_ZONE"):
        monkeypatch.delenv(name, raising=False)


def test_a_profile_url_without_a_tenant_placeholder_is_used_as_is(tmp_path):
    near = project(tmp_path, {"portals/shop.yaml": "url: https://shop.example.com/app/\ntime_zone: Europe/Oslo\n"})
    with open_portal("shop", near=near) as portal:
        assert (portal.url, portal.tenant, portal.time_zone, portal.sandbox) == (
            "https://shop.example.com/app", None, "Europe/Oslo", False)


def test_a_url_template_takes_the_tenant_from_the_environment_or_the_profile(tmp_path, monkeypatch):
    near = project(tmp_path, {"portals/shop.yaml": "url: https://{tenant}.shop.example.com\n"})
    with pytest.raises(ConfigError) as e, open_portal("shop", near=near):
        pass
    assert str(e.value) == ("no URL configured for portal 'shop': its profile's url "
                            "'https://{tenant}.shop.example.com' needs a tenant; set ROBOTS_PORTAL_TENANT (or "
                            "`tenant:` in portals/shop.yaml), or pass --portal-url or set ROBOTS_PORTAL_URL")
    monkeypatch.setenv("ROBOTS_PORTAL_TENANT", "acme")
    with open_portal("shop", near=near) as portal:
        assert (portal.url, portal.tenant) == ("https://acme.shop.example.com", "acme")
    (tmp_path / "portals/shop.yaml").write_text("url: https://{tenant}.shop.example.com\ntenant: north\n")
    monkeypatch.delenv("ROBOTS_PORTAL_TENANT")
    with open_portal("shop", near=near) as portal:
        assert portal.url == "https://north.shop.example.com"
    monkeypatch.setenv("ROBOTS_PORTAL_URL", "http://127.0.0.1:9/")
    with open_portal("shop", near=near) as portal:  # ROBOTS_PORTAL_URL before the profile
        assert portal.url == "http://127.0.0.1:9"
    with open_portal("shop", near=near, url="http://127.0.0.1:8") as portal:  # --portal-url before both
        assert portal.url == "http://127.0.0.1:8"


def test_a_profile_without_url_says_what_to_give(tmp_path):
    near = project(tmp_path, {"portals/shop.yaml": "time_zone: UTC\n"})
    with pytest.raises(ConfigError) as e, open_portal("shop", near=near):
        pass
    assert str(e.value) == ("no URL configured for portal 'shop': pass --portal-url or set ROBOTS_PORTAL_URL (or give "
                            "`url:` in portals/shop.yaml)")


def test_a_project_profile_overlays_the_installed_packs(tmp_path, monkeypatch):
    near = project(tmp_path, {"portals/sera.yaml": "time_zone: Europe/Oslo\n"})
    sera = load_profile("sera")
    assert sera["url"] == "https://{tenant}.sera.tech" and sera["time_zone"] == "America/Chicago"
    assert load_profile("sera", near) == {**sera, "time_zone": "Europe/Oslo"}
    monkeypatch.setenv("ROBOTS_PORTAL_TENANT", "acme")
    with open_portal("sera", near=near) as portal:
        assert (portal.url, portal.time_zone) == ("https://acme.sera.tech", "Europe/Oslo")


def test_a_portal_no_pack_declares_names_every_path_looked_at(tmp_path):
    near = project(tmp_path, {})
    with pytest.raises(ConfigError) as e:
        load_profile("nowhere", near)
    levels = [near, *near.parents][:6]
    paths = [str(p / "portals/nowhere.yaml") for p in levels] + [str(p / "models/nowhere.yaml") for p in levels]
    assert str(e.value) == ("no portal pack 'nowhere': none is installed (installed: sera) and no project folder "
                            f"declares it; looked for {', '.join(paths)}")


def test_a_record_model_comes_from_the_pack_its_prefix_names(tmp_path):
    near = project(tmp_path, {"models/shop.yaml": "order: {fields: {id: {type: string, required: true}}}\n"})
    assert contracts.problem("sera.customer") is None
    why = contracts.problem("sera.custmer")
    assert why is not None and why.startswith(
        "unknown record model 'sera.custmer' (did you mean 'sera.customer'?); the pack 'sera' (entry point "
        "robots.packs.sera:PACK) has: sera.appointment, sera.contact, sera.customer, sera.customer_detail, ")
    assert contracts.problem("shop.order") is not None  # (a project's models are seen from its folders only)
    assert contracts.problem("shop.order", near) is None
    with contracts.models_near(near):
        assert contracts.conform("shop.order", [{"id": "7"}]) == [{"id": "7", "source_url": None,
                                                                   "scraped_at": None}]
        assert contracts.problem("shop.ordr") == (
            f"unknown record model 'shop.ordr' (did you mean 'shop.order'?); the pack 'shop' (models "
            f"{tmp_path / 'models/shop.yaml'}) has: shop.order")
    assert contracts.problem("customer") == ("unknown record model 'customer': a record model is named "
                                             "<pack>.<model>, the portal pack's name, a dot and the model's")
    assert contracts.problem("nowhere.x", near).startswith(
        "unknown record model 'nowhere.x': no portal pack 'nowhere': none is installed (installed: sera) and no "
        f"project folder declares it; looked for {near / 'portals/nowhere.yaml'}, ")


def test_an_edited_model_file_is_read_again(tmp_path):
    near = project(tmp_path, {"models/shop.yaml": "order: {fields: {id: string}}\n"})
    assert contracts.problem("shop.line", near) is not None
    (tmp_path / "models/shop.yaml").write_text("order: {fields: {id: string}}\nline: {fields: {code: string}}\n")
    assert contracts.problem("shop.line", near) is None


class _Args(StepArgs):
    pass


def test_a_step_name_that_is_taken_is_an_error_naming_both_origins():
    def fill(ctx, args: _Args) -> None:
        pass

    with pytest.raises(ConfigError) as e, registering("entry point 'acme' (acme_pack.steps) of group robots.steps"):
        step("fill")(fill)
    assert str(e.value) == ("step 'fill' of entry point 'acme' (acme_pack.steps) of group robots.steps collides "
                            "with the step 'fill' of module robots.steps.forms: a step name can be registered once; "
                            "rename one of them")
    assert REGISTRY["fill"].origin == "module robots.steps.forms"
