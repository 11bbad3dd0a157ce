"""The installable engine: `vetrina init` makes a shop of one's own that builds with the installed package."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import ROOT, parse

from engine import shop_init
from engine.shop_init import InitError, ShopFacts, vat_number

FACTS = dict(name="Bottega Prova", legal_name="Bottega Prova S.r.l.", street="Via Roma 1", postal_code="40100",
             city="Bologna", region="BO", vat_id="IT03947120378", email="ciao@bottega.example",
             phone="+39 051 111111", url="https://www.bottega.example")
LEGAL = ("chi-siamo", "spedizioni-e-resi", "termini-e-condizioni", "privacy", "cookie", "contatti")


@pytest.mark.parametrize("text, expected", [("IT03947120378", "IT03947120378"), ("03947120378", "IT03947120378"),
                                            ("it 039 4712 0378", "IT03947120378"), ("00743110157", "IT00743110157")])
def test_a_right_partita_iva_is_accepted_in_any_spelling(text, expected):
    assert vat_number(text) == expected


@pytest.mark.parametrize("text, says", [("IT03947120377", "check digit"), ("0394712037", "11 digits"),
                                        ("ITABCDEFGHIJK", "11 digits")])
def test_a_wrong_partita_iva_is_refused(text, says):
    with pytest.raises(InitError, match=says):
        vat_number(text)


def test_every_bad_value_is_said_at_once():
    with pytest.raises(InitError) as error:
        ShopFacts.checked(**{**FACTS, "vat_id": "123", "email": "nope", "url": "http://x.it", "currency": "euro",
                             "phone": ""})
    message = str(error.value)
    for part in ("partita IVA", "e-mail 'nope'", "site URL", "currency", "--phone is missing"):
        assert part in message


def test_init_writes_the_settings_and_the_legal_pages_as_drafts(tmp_path):
    written = shop_init.create(tmp_path / "shop", ShopFacts.checked(**FACTS), today=dt.date(2026, 12, 1))
    shop = tmp_path / "shop"
    settings = (shop / "pelicanconf.py").read_text(encoding="utf-8")
    assert settings.startswith('"""') and "from vetrina.defaults import *" in settings
    namespace = {}
    exec(compile(settings.replace("from vetrina.defaults import *", ""), "pelicanconf.py", "exec"), namespace)
    assert namespace["BUSINESS_VAT_ID"] == "IT03947120378" and namespace["SITENAME"] == "Bottega Prova"
    assert namespace["SHOP_CURRENCY"] == "EUR" and namespace["DEFAULT_LANG"] == "it"
    for slug in LEGAL + ("newsletter",):
        assert "Status: draft" in (shop / "content" / "pages" / f"{slug}.md").read_text(encoding="utf-8")
    assert "Status: draft" not in (shop / "content" / "pages" / "recesso.md").read_text(encoding="utf-8")
    assert {"content/posts/benvenuti.md", "content/products/prodotto-di-esempio.md",
            "content/images/products/esempio.jpg", "publishconf.py", ".gitignore"} <= set(written)


def test_init_never_overwrites_without_force(tmp_path):
    facts = ShopFacts.checked(**FACTS)
    shop_init.create(tmp_path, facts)
    page = tmp_path / "content" / "pages" / "privacy.md"
    page.write_text("Title: La mia privacy\n\nMia.\n", encoding="utf-8")
    with pytest.raises(InitError, match="already there"):
        shop_init.create(tmp_path, facts)
    assert page.read_text(encoding="utf-8").startswith("Title: La mia privacy")
    shop_init.create(tmp_path, facts, force=True)
    assert "Status: draft" in page.read_text(encoding="utf-8")


def test_init_asks_at_a_terminal_for_what_the_flags_did_not_give():
    answers = iter(["Negozio", "Negozio S.r.l."])
    values = shop_init.ask_missing({**FACTS, "name": None, "legal_name": ""}, lambda question: next(answers))
    assert values["name"] == "Negozio" and values["legal_name"] == "Negozio S.r.l."


# --- The package: pip install, then `vetrina init` and builds with it alone ----------------------------------

def tracked(folder: str) -> list[str]:
    listed = subprocess.run(["git", "ls-files", folder], cwd=ROOT, capture_output=True, text=True, check=True)
    return [line for line in listed.stdout.splitlines() if line]


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    """The engine installed from this checkout with pip (no dependencies: the test environment has them)."""
    target = tmp_path_factory.mktemp("site-packages")
    subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--disable-pip-version-check", "--no-deps",
                    "--target", str(target), str(ROOT)], check=True, capture_output=True)
    return target


def vetrina(installed: Path, shop: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess:
    """The installed `vetrina` command, in the shop's folder, from a Python that sees only the installed engine."""
    environment = {**os.environ, "PYTHONPATH": str(installed), "VETRINA_ISSO_BUILD_URL": ""}
    environment.pop("VETRINA_SHOP", None)
    shop.mkdir(parents=True, exist_ok=True)
    return subprocess.run([sys.executable, "-c", "from vetrina.cli import main; main()", *args], cwd=shop,
                          env=environment, capture_output=True, text=True, check=check, stdin=subprocess.DEVNULL)


def test_the_package_carries_every_plugin_and_theme_file(installed):
    package = installed / "vetrina"
    missing = [path for path in tracked("plugins") + tracked("theme") if not (package / path).is_file()]
    assert not missing, f"pyproject.toml's package-data leaves out {missing}"
    assert (package / "tasks.py").is_file() and not (installed / "plugins").exists()


def test_a_shop_made_by_init_builds_with_the_installed_engine(installed, tmp_path):
    shop = tmp_path / "negozio"
    flags = [f"--{key.replace('_', '-')}={value}" for key, value in FACTS.items() if key != "vat_id"]
    vetrina(installed, tmp_path, "init", str(shop), *flags, "--vat=IT03947120378")
    built = vetrina(installed, shop, "build")
    assert "Built" in built.stdout, built.stderr
    home = parse(shop / "output" / "index.html")
    assert "Bottega Prova" in home.title.get_text()
    assert (shop / "output" / "blog" / "benvenuti" / "index.html").is_file()
    assert not (shop / "plugins").exists() and not (shop / "theme").exists()  # nothing of the engine copied

    refused = vetrina(installed, shop, "build", "--production", check=False)
    assert refused.returncode == 1
    for slug in LEGAL:
        assert f"content/pages/{slug}.md:" in refused.stderr and "still a draft" in refused.stderr
    assert "newsletter.md" not in refused.stderr  # not a legal page: a draft of it is only left out

    for slug in LEGAL:
        page = shop / "content" / "pages" / f"{slug}.md"
        page.write_text(page.read_text(encoding="utf-8").replace("Status: draft\n", ""), encoding="utf-8")
    published = vetrina(installed, shop, "build", "--production")
    assert "Built" in published.stdout, published.stderr
    privacy = parse(shop / "output" / "privacy" / "index.html")
    assert privacy.find("link", rel="canonical")["href"] == "https://www.bottega.example/privacy/"
