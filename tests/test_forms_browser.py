"""The forms as a visitor uses them: the demo built and served on 127.0.0.1, the forms endpoint and an SMTP
server beside it, headless Chromium clicking from the footer to the message received."""

from __future__ import annotations

import time
from urllib.parse import urlencode

import pytest
from aiosmtpd.controller import Controller

from conftest import ROOT, run_build
from forms import server as forms_server
from newsletter import oneclick
from servers import CHROMIUM, chromium, free_port, serving
from test_forms_endpoint import SECRET, SHOP, Inbox, start_endpoint

pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian's chromium is not installed")]


@pytest.fixture(scope="module")
def shop(tmp_path_factory):
    """(site origin, endpoint, inbox): the demo posting to a real endpoint that mails a real SMTP server."""
    base = tmp_path_factory.mktemp("forms-browser")
    output = base / "output"
    output.mkdir()
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    port = free_port()
    with serving(output) as origin:
        # One process (the same output): the side worker of image encoding is not what is tested here.
        run_build(ROOT / "content", output, FORMS_ENDPOINT=f"http://127.0.0.1:{port}", SITE_WORKERS=1)
        endpoint = start_endpoint(base / "endpoint", controller.port, site=origin, port=port)
        try:
            yield origin, endpoint, inbox
        finally:
            forms_server.stop(endpoint.process)
            controller.stop()


@pytest.fixture
def page():
    with chromium() as browser:
        context = browser.new_context()
        tab = context.new_page()
        problems = []
        tab.on("console", lambda message: problems.append(message.text) if message.type == "error" else None)
        tab.problems = problems
        yield tab
        context.close()


def wait_for_mail(inbox, address, count=1, timeout=20):
    deadline = time.monotonic() + timeout
    while len(inbox.to(address)) < count and time.monotonic() < deadline:
        time.sleep(0.1)
    assert len(inbox.to(address)) >= count, f"no message to {address}"
    return inbox.to(address)[-1]


def test_withdrawal_from_the_footer_link_to_the_acknowledgment(shop, page):
    origin, endpoint, inbox = shop
    page.goto(f"{origin}/prodotti/")
    page.get_by_role("link", name="Recedi dal contratto qui").click()
    page.wait_for_url(f"{origin}/recesso/")
    page.get_by_label("Nome").fill("Giulia Bassi")
    page.get_by_label("Numero d'ordine").fill("2026-00077")
    page.locator("#withdrawal-email").fill("giulia@example.org")
    page.get_by_label("Articoli (se non è l'intero ordine)").fill("Violino 4/4")
    page.get_by_role("button", name="Continua").click()
    page.wait_for_url(f"{endpoint.url}/withdrawal")
    assert page.locator("h1").inner_text() == "Conferma il tuo recesso"
    # The answer page wears the site's stylesheet (from the site's origin, allowed by its policy).
    assert page.evaluate("getComputedStyle(document.querySelector('.site-header')).borderBottomStyle") == "solid"
    assert inbox.to("giulia@example.org") == []
    page.get_by_role("button", name="Conferma il recesso").click()
    page.wait_for_url(f"{endpoint.url}/withdrawal/confirm")
    assert page.locator("h1").inner_text() == "Recesso ricevuto"
    page.reload()  # the browser posts the confirmation again: still one withdrawal, one acknowledgment
    assert page.locator("h1").inner_text() == "Recesso ricevuto"
    acknowledgment = wait_for_mail(inbox, "giulia@example.org")
    text = acknowledgment.get_content()
    assert "2026-00077" in text and "Violino 4/4" in text and "Con la presente recedo" in text
    assert "Ricevuto il:" in text
    wait_for_mail(inbox, SHOP)
    time.sleep(1.2)
    assert len(inbox.to("giulia@example.org")) == 1
    rows = endpoint.rows("SELECT status, confirmed FROM submissions WHERE kind = 'withdrawal'")
    assert len(rows) == 1 and rows[0]["status"] == "confirmed" and rows[0]["confirmed"]
    assert page.problems == []


def test_newsletter_double_opt_in_from_the_footer(shop, page):
    origin, endpoint, inbox = shop
    page.goto(f"{origin}/en/withdrawal/")
    footer = page.locator("footer form.signup-form")
    footer.get_by_label("Your e-mail address").fill("luca@example.org")
    footer.get_by_role("button", name="Sign up").click()
    # The consent box is required: the browser keeps the form until it is ticked.
    assert page.url == f"{origin}/en/withdrawal/"
    footer.get_by_label("I agree to receive the newsletter.").check()
    footer.get_by_role("button", name="Sign up").click()
    page.wait_for_url(f"{endpoint.url}/newsletter")
    assert page.locator("h1").inner_text() == "Check your inbox"
    message = wait_for_mail(inbox, "luca@example.org")
    link = next(word for word in message.get_content().split() if "/newsletter/confirm?" in word)
    page.goto(link)
    listed = endpoint.folder / "iscritti.txt"
    assert not listed.exists() or "luca@example.org" not in listed.read_text(encoding="utf-8")
    page.get_by_role("button", name="Confirm the subscription").click()
    assert page.locator("h1").inner_text() == "Subscription confirmed"
    assert "luca@example.org" in listed.read_text(encoding="utf-8").split("\n")
    assert page.problems == []


def test_one_click_unsubscribe_by_post(shop, page):
    origin, endpoint, inbox = shop
    address = "marta@example.org"
    query = urlencode({"a": address, "t": oneclick.token(address, SECRET)})
    # What a mail client does (RFC 8058): a POST of List-Unsubscribe=One-Click, without Origin or cookies.
    answer = page.request.post(f"{endpoint.url}/unsubscribe?{query}", data="List-Unsubscribe=One-Click",
                               headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert answer.status == 200
    assert address in (endpoint.folder / "disiscritti.txt").read_text(encoding="utf-8").split("\n")
    # What a reader does: the link opens a page whose button posts the same.
    other = "nico@example.org"
    page.goto(f"{endpoint.url}/unsubscribe?{urlencode({'a': other, 't': oneclick.token(other, SECRET)})}")
    assert other not in (endpoint.folder / "disiscritti.txt").read_text(encoding="utf-8")
    page.get_by_role("button", name="Cancella l'iscrizione").click()
    assert page.locator("h1").inner_text() == "Iscrizione cancellata"
    assert other in (endpoint.folder / "disiscritti.txt").read_text(encoding="utf-8").split("\n")


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_the_endpoint_s_pages_have_no_axe_violation(shop, scheme):
    from test_accessibility import axe_script, violations

    origin, endpoint, inbox = shop
    script = axe_script()
    found = {}
    with chromium() as browser:
        # axe is injected as an inline script, which the endpoint's own policy (rightly) refuses.
        context = browser.new_context(color_scheme=scheme, bypass_csp=True)
        tab = context.new_page()

        def check(name):
            tab.wait_for_load_state("networkidle")
            problems = violations(tab, script)
            if problems:
                found[name] = problems

        tab.goto(f"{origin}/recesso/")
        tab.get_by_label("Nome").fill("Sara Conti")
        tab.get_by_label("Numero d'ordine").fill("2026-00078")
        tab.locator("#withdrawal-email").fill(f"sara-{scheme}@example.org")
        tab.get_by_role("button", name="Continua").click()
        check("withdrawal confirmation")
        tab.get_by_role("button", name="Conferma il recesso").click()
        check("withdrawal received")
        tab.goto(f"{origin}/")
        tab.locator("#footer-newsletter-email").fill(f"iscritta-{scheme}@example.org")
        tab.locator("#footer-newsletter-consent").check()
        tab.locator("footer form.signup-form button").click()
        check("sign-up sent")
        link = next(word for word in wait_for_mail(inbox, f"iscritta-{scheme}@example.org").get_content().split()
                    if "/newsletter/confirm?" in word)
        tab.goto(link)
        check("sign-up confirmation")
        tab.get_by_role("button", name="Conferma l'iscrizione").click()
        check("sign-up confirmed")
        tab.goto(f"{endpoint.url}/unsubscribe?a=sara@example.org&t=wrong")
        check("problem page")
        context.close()
    assert not found, found
