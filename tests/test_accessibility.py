"""axe-core (npm, pinned in package-lock.json) on the demo's pages in headless Chromium: light and dark, desktop and
phone, with the pages' own scripts run. Zero violations of WCAG 2.2 A/AA and of axe's best practices."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from conftest import ROOT
from servers import chromium, serving

AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
PAGES = [
    "",  # home
    "prodotti/",
    "prodotti/chitarra-elettrica-squier-stratocaster/",  # variants and gallery
    "prodotti/ebook-guida-usato/",
    "blog/comprare-chitarra-usata/",
    "cerca/?q=chitarra",
    "carrello/",
    "recesso/",
    "en/blog/comprare-chitarra-usata/",
]
TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa", "best-practice"]


def axe_script() -> str:
    if not AXE.exists():
        message = "axe-core is not installed (npm ci installs it from package-lock.json)"
        if os.environ.get("CI") == "true":
            pytest.fail(message, pytrace=False)
        pytest.skip(message)
    return AXE.read_text(encoding="utf-8")


def violations(tab, script: str) -> list[str]:
    tab.add_script_tag(content=script)
    found = tab.evaluate("""async (tags) => {
        const result = await axe.run(document, {runOnly: {type: "tag", values: tags}});
        return result.violations.map(v => v.id + ": " + v.nodes.map(n => n.target.join(" ")).join(", "));
    }""", TAGS)
    return found


@pytest.mark.parametrize("scheme", ["light", "dark"])
@pytest.mark.parametrize("viewport", [(1280, 900), (390, 844)], ids=["desktop", "phone"])
def test_no_axe_violation_on_the_shop_s_main_pages(demo_output: Path, scheme, viewport):
    script = axe_script()
    missing = [page for page in PAGES if not (demo_output / page.split("?")[0] / "index.html").exists()]
    assert not missing, f"pages not built: {missing}"
    found = {}
    with serving(demo_output) as origin, chromium() as browser:
        context = browser.new_context(viewport={"width": viewport[0], "height": viewport[1]}, color_scheme=scheme)
        tab = context.new_page()
        for page in PAGES:
            tab.goto(f"{origin}/{page}")
            tab.wait_for_load_state("networkidle")
            problems = violations(tab, script)
            if problems:
                found[page] = problems
        context.close()
    assert not found, found
