"""The forms endpoint run for real on 127.0.0.1 with a real SMTP server (aiosmtpd): what it stores in SQLite,
what it mails (parsed with the email package), and what it refuses; faults injected for real."""

from __future__ import annotations

import email
import json
import sqlite3
import time
import urllib.error
import urllib.request
from email import policy
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
from aiosmtpd.controller import Controller
from bs4 import BeautifulSoup

from conftest import ROOT, require_validator
from forms import server as forms_server
from newsletter import oneclick
from servers import free_port

SITE = "http://127.0.0.1:8000"  # the shop's origin the endpoint is told about (the pages are not served here)
SHOP = "ordini@cordeelegni.example"
FROM = "Corde & Legni <moduli@cordeelegni.example>"
SECRET = "una-chiave-di-prova-per-le-disiscrizioni-0123456789"
PRICES = {"currency": "EUR", "free_from": "150.00", "rates": {"strumenti": "19.90", "accessori": "6.90"},
          "offers": {"CL-GTR": ["Chitarra classica", "249.00", "strumenti", True, "/prodotti/c/", "/i/c.jpg"],
                     "CL-STR": ["Corde per chitarra", "9.90", "accessori", True, "/prodotti/s/", "/i/s.jpg"],
                     "CL-OUT": ["Basso esaurito", "300.00", "strumenti", False, "/prodotti/b/", "/i/b.jpg"]}}


class Inbox:
    """Keeps every message; `defer` answers 451 at RCPT (try later) while it is set."""

    def __init__(self):
        self.received = []
        self.defer = False

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if self.defer:
            return "451 4.3.0 busy, try again later"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        for recipient in envelope.rcpt_tos:
            self.received.append((recipient, email.message_from_bytes(envelope.content, policy=policy.default)))
        return "250 Message accepted"

    def to(self, address):
        return [message for recipient, message in self.received if recipient == address]

    def wait_for(self, count: int, timeout: float = 15):
        deadline = time.monotonic() + timeout
        while len(self.received) < count and time.monotonic() < deadline:
            time.sleep(0.05)
        assert len(self.received) >= count, f"{len(self.received)} messages, not {count}"
        return self.received


def wait_until(condition, timeout: float = 15):
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "the condition never held"
        time.sleep(0.05)


@pytest.fixture
def smtp():
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    yield controller, inbox
    controller.stop()


class Endpoint:
    def __init__(self, url, folder, process):
        self.url, self.folder, self.process = url, folder, process
        self.pages = []  # every HTML answer, for the validator

    def request(self, path, form=None, origin=SITE, ip="198.51.100.7", query="", referer=None, raw=None,
                method=None):
        data = raw if raw is not None else (urlencode(form, doseq=True).encode() if form is not None else None)
        headers = {"X-Forwarded-For": ip}
        if origin:
            headers["Origin"] = origin
        if referer:
            headers["Referer"] = referer
        if data is not None:
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        request = urllib.request.Request(f"{self.url}{path}{'?' + query if query else ''}", data=data,
                                         headers=headers, method=method)
        try:
            with urllib.request.urlopen(request, timeout=20) as response:
                status, body, head = response.status, response.read().decode(), response.headers
        except urllib.error.HTTPError as error:
            status, body, head = error.code, error.read().decode(), error.headers
        self.pages.append(body)
        return status, BeautifulSoup(body, "html.parser"), head

    def rows(self, sql, *args):
        with sqlite3.connect(self.folder / "moduli.db") as db:
            db.row_factory = sqlite3.Row
            return [dict(row) for row in db.execute(sql, args)]


def start_endpoint(folder, smtp_port: int, rate_limit: int = 100, retry_every: float = 0.5, site: str = SITE,
                   port: int = 0) -> Endpoint:
    """The endpoint as `./vetrina forms` runs it, with its own database and files in folder."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "cart.json").write_text(json.dumps(PRICES), encoding="utf-8")
    port = port or free_port()
    url = f"http://127.0.0.1:{port}"
    settings = {"FORMS_ENDPOINT": url, "FORMS_SITE_ORIGIN": site, "SITE_DEV_URL": site,
                "FORMS_DATABASE": str(folder / "moduli.db"), "FORMS_CART_JSON": str(folder / "cart.json"),
                "FORMS_MAIL_DIR": str(folder / "posta"), "FORMS_TRUSTED_PROXIES": ("127.0.0.1",),
                "FORMS_RATE_LIMIT": rate_limit, "NEWSLETTER_SUPPRESSION_FILE": str(folder / "disiscritti.txt")}
    extra = ["--retry-every", str(retry_every)]
    for name, value in settings.items():
        extra += ["--set", f"{name}={value!r}"]
    env = {"PATH": "/usr/bin:/bin", "VETRINA_SMTP_HOST": "127.0.0.1", "VETRINA_SMTP_PORT": str(smtp_port),
           "VETRINA_SMTP_STARTTLS": "false", "VETRINA_SMTP_FROM": FROM,
           "VETRINA_NEWSLETTER_RECIPIENTS": str(folder / "iscritti.txt"), "VETRINA_NEWSLETTER_SECRET": SECRET}
    process = forms_server.start(ROOT / "pelicanconf.py", port, folder / "forms.log", *extra, env=env)
    try:
        forms_server.wait_until_ready(url, process)
    except BaseException:
        forms_server.stop(process)
        raise
    return Endpoint(url, folder, process)


@pytest.fixture
def endpoint(tmp_path):
    started = []

    def start(smtp_port: int, **options):
        started.append(start_endpoint(tmp_path / f"endpoint-{len(started)}", smtp_port, **options))
        return started[-1]

    yield start
    for running in started:
        if running.process.poll() is None:
            forms_server.stop(running.process)


WITHDRAWAL = {"name": "Anna Rossi", "order": "2026-00042", "email": "anna@example.org",
              "items": "Chitarra classica", "order_date": "2026-11-20", "lang": "it"}


def test_withdrawal_is_confirmed_stored_and_acknowledged_once(smtp, endpoint):
    controller, inbox = smtp
    forms = endpoint(controller.port)
    status, page, headers = forms.request("/withdrawal", WITHDRAWAL)
    assert status == 200 and page.html["lang"] == "it"
    assert "default-src 'none'" in headers["Content-Security-Policy"]
    button = page.select_one("form button")
    assert button.get_text(strip=True) == "Conferma il recesso"
    assert forms.rows("SELECT status FROM submissions") == [{"status": "draft"}]
    assert inbox.received == []  # nothing is sent before the confirmation
    key = page.find("input", attrs={"name": "key"})["value"]
    confirm = page.select_one("form")["action"]
    assert confirm == f"{forms.url}/withdrawal/confirm"
    for _ in range(3):  # the button pressed, then the page reloaded twice: one withdrawal, mailed once
        status, done, _ = forms.request("/withdrawal/confirm", {"key": key, "lang": "it"}, origin=forms.url)
        assert status == 200 and done.h1.get_text(strip=True) == "Recesso ricevuto"
    rows = forms.rows("SELECT * FROM submissions WHERE kind = 'withdrawal'")
    assert len(rows) == 1 and rows[0]["status"] == "confirmed" and rows[0]["confirmed"]
    assert json.loads(rows[0]["data"])["order"] == "2026-00042"
    inbox.wait_for(2)
    time.sleep(1.2)  # two more rounds of the outbox: nothing sent again
    assert len(inbox.to("anna@example.org")) == 1 and len(inbox.to(SHOP)) == 1
    acknowledgment = inbox.to("anna@example.org")[0]
    text = acknowledgment.get_content()
    assert acknowledgment["Subject"] == "Abbiamo ricevuto il tuo recesso dal contratto"
    assert "Con la presente recedo dal contratto" in text and "2026-00042" in text and "Anna Rossi" in text
    assert "Chitarra classica" in text and "2026-11-20" in text
    assert "Ricevuto il:" in text and "CET" in text  # the date and time it was received
    assert "Anna Rossi" in inbox.to(SHOP)[0].get_content() and inbox.to(SHOP)[0]["Reply-To"] == "anna@example.org"


def test_withdrawal_in_english_and_its_problems(smtp, endpoint):
    controller, inbox = smtp
    forms = endpoint(controller.port)
    status, page, _ = forms.request("/withdrawal", {**WITHDRAWAL, "lang": "en", "email": "anna@"})
    assert status == 400 and page.html["lang"] == "en"
    assert "E-mail" in page.select_one(".form-problems").get_text()
    status, page, _ = forms.request("/withdrawal", {**WITHDRAWAL, "lang": "en"})
    assert page.select_one("form button").get_text(strip=True) == "Confirm the withdrawal"
    status, page, _ = forms.request("/withdrawal/confirm", {"key": "not-a-key", "lang": "en"}, origin=forms.url)
    assert status == 404 and forms.rows("SELECT status FROM submissions") == [{"status": "draft"}]
    _, page, _ = forms.request("/withdrawal", {**WITHDRAWAL, "lang": "en"})
    page_key = page.find("input", attrs={"name": "key"})["value"]
    with sqlite3.connect(forms.folder / "moduli.db") as db:  # two days pass before the button is pressed
        db.execute("UPDATE submissions SET created = '2026-01-01T00:00:00+00:00' WHERE key = ?", (page_key,))
    status, page, _ = forms.request("/withdrawal/confirm", {"key": page_key, "lang": "en"}, origin=forms.url)
    assert status == 404 and "fill in the withdrawal form again" in page.get_text()
    assert {row["status"] for row in forms.rows("SELECT status FROM submissions")} == {"draft"}


def order_form(**values):
    return {"sku": ["CL-STR", "CL-GTR"], "quantity": ["2", "1"], "name": "Bea Neri", "email": "bea@example.org",
            "address": "Via Zamboni 3\n40126 Bologna", "phone": "+39 051 1", "note": "Citofono Neri",
            "total": "268.80", "lang": "it", **values}


def test_order_is_priced_again_stored_and_mailed_with_every_line(smtp, endpoint):
    controller, inbox = smtp
    forms = endpoint(controller.port)
    status, page, _ = forms.request("/order", order_form(sku=["CL-STR"], quantity=["2"], total="19.80"))
    assert status == 200
    # 2 x 9.90 + 6.90 shipping: the catalogue's 26.70 wins over the 19.80 the visitor's page said, and says so.
    assert page.select_one(".order-total").get_text(strip=True) == "26,70\xa0€"
    assert "26,70" in page.select_one(".form-notice").get_text() and "19,80" in page.select_one(".form-notice").get_text()
    rows = forms.rows("SELECT * FROM submissions WHERE kind = 'order'")
    assert len(rows) == 1
    data = json.loads(rows[0]["data"])
    assert (data["subtotal"], data["shipping"], data["total"], data["seen_total"]) == ("19.80", "6.90", "26.70", "19.80")
    inbox.wait_for(2)
    shop_text = inbox.to(SHOP)[0].get_content()
    assert "2 × Corde per chitarra (CL-STR)" in shop_text and "Spedizione: 6,90" in shop_text
    assert "Totale: 26,70" in shop_text and "Via Zamboni 3" in shop_text and "Citofono Neri" in shop_text
    assert inbox.to(SHOP)[0]["Reply-To"] == "bea@example.org"
    assert "Totale: 26,70" in inbox.to("bea@example.org")[0].get_content()


def test_an_order_posted_twice_is_one_order(smtp, endpoint):
    controller, inbox = smtp
    forms = endpoint(controller.port)
    first = forms.request("/order", order_form())
    again = forms.request("/order", order_form())
    assert first[0] == again[0] == 200
    assert first[1].h1.get_text() == again[1].h1.get_text()
    assert again[1].find(string=lambda text: "già arrivato" in text)
    assert len(forms.rows("SELECT id FROM submissions WHERE kind = 'order'")) == 1
    inbox.wait_for(2)
    time.sleep(1.2)
    assert len(inbox.received) == 2
    # Free shipping from 150 EUR: the guitar and two sets of strings ship free.
    assert "0,00" in first[1].select(".order-lines tfoot td")[1].get_text()


@pytest.mark.parametrize("change, words", [
    ({"sku": ["CL-NONE"], "quantity": ["1"]}, "not sold"),
    ({"sku": ["CL-OUT"], "quantity": ["1"]}, "cannot be bought"),
    ({"sku": ["CL-STR"], "quantity": ["0"]}, "from 1 to"),
])
def test_an_order_that_cannot_be_priced_is_refused(smtp, endpoint, change, words):
    controller, inbox = smtp
    forms = endpoint(controller.port)
    status, page, _ = forms.request("/order", order_form(**change))
    assert status == 400 and words in page.select_one(".form-notice").get_text()
    assert forms.rows("SELECT id FROM submissions") == []


def test_smtp_down_keeps_the_submission_and_sends_it_once_later(smtp, endpoint):
    _, inbox = smtp
    port = free_port()  # nothing listens there yet: the SMTP server is down
    forms = endpoint(port, retry_every=0.5)
    status, page, _ = forms.request("/withdrawal", WITHDRAWAL)
    key = page.find("input", attrs={"name": "key"})["value"]
    status, done, _ = forms.request("/withdrawal/confirm", {"key": key, "lang": "it"}, origin=forms.url)
    assert status == 200  # the visitor's withdrawal is received even though no mail could go
    assert forms.rows("SELECT status FROM submissions") == [{"status": "confirmed"}]
    # Delivered by the endpoint's own thread, never in the visitor's request: its first attempt follows at once.
    wait_until(lambda: all(row["last_reply"] for row in forms.rows("SELECT last_reply FROM outbox")))
    owed = forms.rows("SELECT status, last_reply FROM outbox")
    # Kept and retried on the endpoint's timer ("sending" while a retry is under way), never given up.
    assert len(owed) == 2 and all(row["status"] in ("pending", "sending") and "could not connect" in row["last_reply"]
                                  for row in owed)
    late = Inbox()
    controller = Controller(late, hostname="127.0.0.1", port=port)
    controller.start()  # the server comes back: the endpoint's timer delivers what it kept
    try:
        late.wait_for(2, timeout=30)
        time.sleep(1.5)
        assert len(late.to("anna@example.org")) == 1 and len(late.to(SHOP)) == 1
        assert {row["status"] for row in forms.rows("SELECT status FROM outbox")} == {"sent"}
    finally:
        controller.stop()


def test_a_deferring_server_gets_the_message_once_when_it_accepts(smtp, endpoint):
    controller, inbox = smtp
    inbox.defer = True
    forms = endpoint(controller.port, retry_every=0.3)
    assert forms.request("/newsletter", {"email": "eva@example.org", "consent": "yes", "lang": "it"})[0] == 200
    time.sleep(1)
    assert inbox.received == []
    row, = forms.rows("SELECT status, attempts, last_reply FROM outbox")
    assert row["status"] in ("pending", "sending") and row["attempts"] >= 1 and row["last_reply"].startswith("451")
    inbox.defer = False
    inbox.wait_for(1, timeout=30)
    time.sleep(1.5)
    assert len(inbox.to("eva@example.org")) == 1


@pytest.mark.parametrize("origin, referer, expected", [
    ("https://altrove.example", None, 403),
    (None, None, 403),
    (None, f"{SITE}/recesso/", 200),  # a browser that sends only Referer
    ("http://127.0.0.1:8001", None, 403),  # the right host, another port
])
def test_posts_from_another_origin_are_refused(smtp, endpoint, origin, referer, expected):
    controller, inbox = smtp
    forms = endpoint(controller.port)
    status, page, _ = forms.request("/withdrawal", WITHDRAWAL, origin=origin, referer=referer)
    assert status == expected
    assert len(forms.rows("SELECT id FROM submissions")) == (1 if expected == 200 else 0)


def test_rate_limit_per_visitor_behind_the_proxy(smtp, endpoint):
    controller, inbox = smtp
    forms = endpoint(controller.port, rate_limit=3)
    statuses = [forms.request("/withdrawal", WITHDRAWAL, ip="203.0.113.5")[0] for _ in range(4)]
    assert statuses == [200, 200, 200, 429]
    status, page, headers = forms.request("/withdrawal", WITHDRAWAL, ip="203.0.113.5")
    assert status == 429 and headers["Retry-After"]
    # Another visitor behind the same proxy is not limited by the first one.
    assert forms.request("/withdrawal", WITHDRAWAL, ip="203.0.113.6")[0] == 200
    assert len(forms.rows("SELECT id FROM submissions")) == 4


def test_a_body_over_the_size_limit_is_refused(smtp, endpoint):
    controller, inbox = smtp
    forms = endpoint(controller.port)
    status, _, _ = forms.request("/withdrawal", raw=urlencode({**WITHDRAWAL, "items": "x" * 20000}).encode())
    assert status == 413 and forms.rows("SELECT id FROM submissions") == []
    assert forms.request("/withdrawal", method="GET")[0] == 405


def confirmation_link(message) -> str:
    text = message.get_content()
    return next(word for word in text.split() if "/newsletter/confirm?" in word)


def test_double_opt_in_and_one_click_unsubscribe(smtp, endpoint):
    controller, inbox = smtp
    forms = endpoint(controller.port)
    signup = {"email": "Carla@Example.org", "consent": "yes", "lang": "it"}
    assert forms.request("/newsletter", {**signup, "consent": ""})[0] == 400
    assert forms.request("/newsletter", signup)[0] == 200
    assert forms.request("/newsletter", signup)[0] == 200  # twice: the same page, no second mail
    inbox.wait_for(1)
    time.sleep(1)
    assert len(inbox.received) == 1
    link = confirmation_link(inbox.to("Carla@example.org")[0])
    assert link.startswith(f"{forms.url}/newsletter/confirm?token=")
    # Opening the link (a mail scanner does) confirms nothing: the page has a button.
    status, page, _ = forms.request(urlsplit(link).path, query=urlsplit(link).query, origin=None)
    assert status == 200 and not (forms.folder / "iscritti.txt").exists()
    assert forms.rows("SELECT status FROM subscribers") == [{"status": "pending"}]
    token = page.find("input", attrs={"name": "token"})["value"]
    assert token == parse_qs(urlsplit(link).query)["token"][0]
    status, page, _ = forms.request("/newsletter/confirm", {"token": token, "lang": "it"}, origin=forms.url)
    assert status == 200 and page.h1.get_text(strip=True) == "Iscrizione confermata"
    listed = (forms.folder / "iscritti.txt").read_text(encoding="utf-8").split("\n")
    assert "Carla@example.org" in listed
    assert forms.rows("SELECT status FROM subscribers") == [{"status": "confirmed"}]
    assert forms.request("/newsletter/confirm", {"token": token, "lang": "it"}, origin=forms.url)[0] == 404
    # RFC 8058: the mail client posts List-Unsubscribe=One-Click to the URL, with no Origin and no cookie.
    query = urlencode({"a": "Carla@example.org", "t": oneclick.token("Carla@example.org", SECRET)})
    forged = urlencode({"a": "Carla@example.org", "t": oneclick.token("Carla@example.org", "x" * 40)})
    assert forms.request("/unsubscribe", raw=b"List-Unsubscribe=One-Click", query=forged, origin=None)[0] == 400
    assert not (forms.folder / "disiscritti.txt").exists()
    status, page, _ = forms.request("/unsubscribe", raw=b"List-Unsubscribe=One-Click", query=query, origin=None)
    assert status == 200
    suppressed = (forms.folder / "disiscritti.txt").read_text(encoding="utf-8").split("\n")
    assert "Carla@example.org" in suppressed
    assert forms.rows("SELECT status FROM subscribers") == [{"status": "unsubscribed"}]
    # A GET shows the button and changes nothing.
    status, page, _ = forms.request("/unsubscribe", query=query, origin=None)
    assert status == 200 and page.select_one("form")["method"] == "post"
    # Signing up and confirming again takes the address off the suppression list.
    forms.request("/newsletter", signup)
    inbox.wait_for(2)
    link = confirmation_link(inbox.to("Carla@example.org")[-1])
    token = parse_qs(urlsplit(link).query)["token"][0]
    assert forms.request("/newsletter/confirm", {"token": token, "lang": "it"}, origin=forms.url)[0] == 200
    assert "Carla@example.org" not in (forms.folder / "disiscritti.txt").read_text(encoding="utf-8").split("\n")
    assert (forms.folder / "iscritti.txt").read_text(encoding="utf-8").split("\n").count("Carla@example.org") == 1


def test_the_answer_pages_are_valid_html(smtp, endpoint, tmp_path):
    jar = require_validator()
    from core import checks

    controller, inbox = smtp
    forms = endpoint(controller.port)
    forms.request("/order", order_form(total="1.00"))
    forms.request("/order", order_form(email="x"))
    _, page, _ = forms.request("/withdrawal", WITHDRAWAL)
    forms.request("/withdrawal/confirm", {"key": page.find("input", attrs={"name": "key"})["value"]},
                  origin=forms.url)
    forms.request("/newsletter", {"email": "dora@example.org", "consent": "yes", "lang": "en"})
    forms.request("/withdrawal", WITHDRAWAL, origin="https://altrove.example")
    query = urlencode({"a": "dora@example.org", "t": oneclick.token("dora@example.org", SECRET)})
    forms.request("/unsubscribe", query=query, origin=None)
    wait_until(lambda: inbox.to("dora@example.org"))
    link = urlsplit(confirmation_link(inbox.to("dora@example.org")[0]))
    forms.request(link.path, query=link.query, origin=None)
    folder = tmp_path / "pages"
    folder.mkdir()
    for number, body in enumerate(forms.pages):
        (folder / f"{number}.html").write_text(body, encoding="utf-8")
    assert jar and checks.invalid_html(folder) == []


def test_an_unconfirmed_sign_up_expires(smtp, endpoint):
    controller, inbox = smtp
    forms = endpoint(controller.port)
    signup = {"email": "ugo@example.org", "consent": "yes", "lang": "it"}
    forms.request("/newsletter", signup)
    token = parse_qs(urlsplit(confirmation_link(inbox.wait_for(1)[0][1])).query)["token"][0]
    with sqlite3.connect(forms.folder / "moduli.db") as db:  # three days pass
        db.execute("UPDATE subscribers SET requested = '2026-01-01T00:00:00+00:00', "
                   "mailed = '2026-01-01T00:00:00+00:00'")
    status, page, _ = forms.request("/newsletter/confirm", {"token": token, "lang": "it"}, origin=forms.url)
    assert status == 404 and not (forms.folder / "iscritti.txt").exists()
    forms.request("/newsletter", signup)  # a new sign-up: a new link, and the old one stays void
    inbox.wait_for(2)
    fresh = parse_qs(urlsplit(confirmation_link(inbox.received[-1][1])).query)["token"][0]
    assert fresh != token
    assert forms.request("/newsletter/confirm", {"token": token}, origin=forms.url)[0] == 404
    assert forms.request("/newsletter/confirm", {"token": fresh}, origin=forms.url)[0] == 200


def test_an_order_with_the_same_nonce_is_one_order_even_when_edited(smtp, endpoint):
    controller, inbox = smtp
    forms = endpoint(controller.port)
    forms.request("/order", order_form(nonce="c0ffee"))
    status, page, _ = forms.request("/order", order_form(nonce="c0ffee", note="un'altra nota"))
    assert status == 200 and len(forms.rows("SELECT id FROM submissions")) == 1
    forms.request("/order", order_form(nonce="bada55"))
    assert len(forms.rows("SELECT id FROM submissions")) == 2
