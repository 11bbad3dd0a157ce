"""invoke newsletter against a real SMTP server (aiosmtpd on 127.0.0.1): sent once per recipient, never lost.

The site is built once per module (one output before a second post is published, one after); each test
gets its own site folder (state file, campaigns, lists) and its own server. The journal, the address
lists, the plan and the lock are also tested directly, without SMTP.
"""

from __future__ import annotations

import asyncio
import email
import json
import threading
from collections import Counter
from decimal import Decimal
from email import policy
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import pytest
from aiosmtpd.controller import Controller
from bs4 import BeautifulSoup
from conftest import ROOT, post, run_build, write_content
from servers import free_port
from pelican.settings import read_settings
from shop_fixtures import catalogue

from core import durable
from newsletter import (NewsletterError, journal, lock, mail, oneclick, plan, recipients, run, status,
                        unsubscribe)
from newsletter.journal import Journal, JournalError, State
from newsletter.settings import NewsletterConfigurationError, NewsletterSettings
from shop.catalog import format_money

SITE = "https://www.cordeelegni.example"
TODAY = "2026-11-22"
FIRST_POST = post(title="Prima guida", slug="prima", date="2026-11-01 10:00",
                  uid="11111111-2222-4333-8444-555555555555", image="images/p.png", image_alt="Una foto",
                  body="Vedi [il blog](/blog/).\n\n[[prodotto: basso]]")
SECOND_POST = post(title="Seconda guida", slug="seconda", date="2026-11-20 09:00",
                   uid="66666666-7777-4888-9999-aaaaaaaaaaaa")
SECOND_GUID = "urn:uuid:66666666-7777-4888-9999-aaaaaaaaaaaa"
FROM = "Corde & Legni <lettera@cordeelegni.example>"
SECRET = "chiave-di-prova-per-le-disiscrizioni-0123456789"
OTHER_SECRET = "unaltra-chiave-di-prova-per-disiscrivere-9876543210"


class Inbox:
    """An aiosmtpd handler that keeps what it receives and can misbehave on purpose.

    refuse: addresses answered 550 at RCPT (for good). defer: addresses answered 450 at RCPT (try later).
    reject_content: addresses whose message is answered 554 after its content. drop_at_rcpt: {address: how many times} the connection is cut at
    its RCPT. drop_after_data: addresses whose connection is cut (once) after their message was received,
    before the reply. hold_at: the n-th
    message (1-based) is received, `holding` is set, and the reply waits until `release` is set.
    """

    def __init__(self):
        self.received = []  # (envelope recipient, parsed message), in arrival order
        self.refuse = set()
        self.defer = set()
        self.reject_content = set()
        self.drop_at_rcpt = Counter()
        self.drop_after_data = set()
        self.hold_at = None
        self.holding = threading.Event()
        self.release = threading.Event()

    @property
    def messages(self):
        return [message for _, message in self.received]

    def count(self) -> Counter:
        return Counter(recipient for recipient, _ in self.received)

    def message_ids(self, recipient: str) -> list[str]:
        return [message["Message-ID"] for to, message in self.received if to == recipient]

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if self.drop_at_rcpt[address] > 0:
            self.drop_at_rcpt[address] -= 1
            server.transport.abort()
            return "250 OK"
        if address in self.refuse:
            return "550 5.1.1 mailbox unavailable"
        if address in self.defer:
            return "450 4.2.1 mailbox busy, try later"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        recipient = envelope.rcpt_tos[0]
        if recipient in self.reject_content:
            return "554 5.7.1 message refused"
        self.received.append((recipient, email.message_from_bytes(envelope.content, policy=policy.default)))
        if recipient in self.drop_after_data:
            self.drop_after_data.discard(recipient)
            server.transport.abort()
            return "250 never read"
        if self.hold_at == len(self.received):
            self.holding.set()
            for _ in range(1200):  # at most a minute: a test that forgets to release still ends
                if self.release.is_set():
                    break
                await asyncio.sleep(0.05)
        return "250 Message accepted"


@pytest.fixture
def smtp_server():
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    yield controller, inbox
    inbox.release.set()
    controller.stop()


def smtp_environ(port: int, recipients_file) -> dict:
    return {"VETRINA_SMTP_HOST": "127.0.0.1", "VETRINA_SMTP_PORT": str(port), "VETRINA_SMTP_STARTTLS": "false",
            "VETRINA_SMTP_FROM": FROM, "VETRINA_NEWSLETTER_RECIPIENTS": str(recipients_file)}


def site_settings(**overrides) -> dict:
    return read_settings(str(ROOT / "publishconf.py"),
                         override={"THEME": str(ROOT / "theme"), "SHOP_TODAY": TODAY, **overrides})


@pytest.fixture(scope="module")
def outputs(tmp_path_factory):
    """The production build before ("one") and after ("two") the second post is published."""
    base = tmp_path_factory.mktemp("newsletter-site")
    content = base / "content"
    write_content(content, {**catalogue(), "posts/a.md": FIRST_POST})
    first = run_build(content, base / "output-one", "publishconf.py", SHOP_TODAY=TODAY)
    write_content(content, {"posts/b.md": SECOND_POST})
    second = run_build(content, base / "output-two", "publishconf.py", SHOP_TODAY=TODAY)
    return {"one": first, "two": second}


@pytest.fixture(scope="module")
def settings():
    return site_settings()


class Shop:
    """A site folder (state, campaigns, lists) that sends a prepared output to the local server."""

    def __init__(self, root, outputs, settings, controller, inbox):
        self.root, self.outputs, self.settings, self.inbox = root, outputs, settings, inbox
        self.recipients = root / "iscritti.txt"
        self.recipients.write_text("uno@example.org\n# un commento\ndue@example.org\n", encoding="utf-8")
        self.environ = smtp_environ(controller.port, self.recipients)
        self.state = root / "newsletter" / "sent.json"
        self.campaigns = root / "newsletter" / "campagne"

    def newsletter(self, output="one", send=True, settings=None, **options):
        import datetime as dt

        return run(self.root, settings or self.settings, self.outputs[output], send=send, environ=self.environ,
                   today=dt.date(2026, 11, 22), **options)

    def status(self):
        return status(self.root, self.settings, self.environ)

    def issues(self):
        return json.loads(self.state.read_text(encoding="utf-8"))["issues"]


@pytest.fixture
def shop(tmp_path, smtp_server, outputs, settings):
    controller, inbox = smtp_server
    return Shop(tmp_path, outputs, settings, controller, inbox)


def html_part(message):
    return message.get_body(preferencelist=("html",)).get_content()


def titles(message) -> list[str]:
    return [h.get_text(strip=True) for h in BeautifulSoup(html_part(message), "html.parser").find_all("h3")]


# --- sending ---------------------------------------------------------------------------------------------
def test_digest_is_previewed_by_default_and_nothing_is_sent(shop):
    result = shop.newsletter(send=False)
    assert result.number == 1 and shop.inbox.messages == []
    assert not shop.state.exists() and not shop.campaigns.exists()
    assert sorted(p.suffix for p in result.preview) == [".eml", ".html", ".txt"]
    preview = email.message_from_bytes(result.preview[2].read_bytes(), policy=policy.default)
    assert preview.get_content_type() == "multipart/alternative"


def test_digest_is_sent_once_as_multipart_with_unsubscribe_headers_and_utm_links(shop):
    result = shop.newsletter()
    assert result.sent_to == 2 and shop.inbox.count() == {"uno@example.org": 1, "due@example.org": 1}
    message = shop.inbox.messages[0]
    assert message.get_content_type() == "multipart/alternative"
    assert [part.get_content_type() for part in message.iter_parts()] == ["text/plain", "text/html"]
    assert message["Subject"] == "Corde & Legni: le novità di novembre 2026"
    assert message["To"] == "uno@example.org" and shop.inbox.messages[1]["To"] == "due@example.org"
    # The default unsubscribe URL is a static page: no one-click promise it cannot keep (RFC 8058).
    assert message["List-Unsubscribe-Post"] is None
    assert "<mailto:" in message["List-Unsubscribe"] and f"<{SITE}/newsletter/>" in message["List-Unsubscribe"]
    ids = {to: message["Message-ID"] for to, message in shop.inbox.received}
    assert len(set(ids.values())) == 2 and all(i.endswith("@cordeelegni.example>") for i in ids.values())
    entries = Journal(shop.campaigns / "numero-1" / "journal").entries
    assert {entry.address: entry.message_id for entry in entries.values()} == ids
    assert {entry.state for entry in entries.values()} == {State.SENT}
    assert all(entry.reply == "250 Message accepted" for entry in entries.values())
    soup = BeautifulSoup(html_part(message), "html.parser")
    assert soup.find("style") is None and soup.find(style=True), "CSS is inlined"
    assert soup.find("table", attrs={"width": "600"})
    links = [a["href"] for a in soup.find_all("a", href=True)]
    shop_links = [link for link in links if link.startswith(SITE)]
    assert shop_links and all(link.startswith("https://") or link.startswith("mailto:") for link in links)
    for link in shop_links:
        query = parse_qs(urlparse(link).query)
        assert query["utm_source"] == ["newsletter"] and query["utm_medium"] == ["email"]
        assert query["utm_campaign"] == ["newsletter-1"]
    assert any("/blog/prima/" in link for link in shop_links) and any("/prodotti/basso/" in link for link in links)
    text = message.get_body(preferencelist=("plain",)).get_content()
    assert "Prima guida" in text and "utm_campaign=newsletter-1" in text
    assert "1.189,00" in text
    [issue] = shop.issues()
    assert issue["number"] == 1 and issue["recipients"] == 2 and issue["date"] == TODAY


def test_each_product_card_in_the_digest_states_vat_and_the_shipping_of_shop_json(shop):
    shop.newsletter()
    soup = BeautifulSoup(html_part(shop.inbox.messages[0]), "html.parser")
    records = {p["url"]: p for p in json.loads((shop.outputs["one"] / "shop.json").read_text(encoding="utf-8"))["products"]}
    cards = soup.select("table[style*=\"e3d9cc\"]")  # the card macro's own border
    assert cards
    for card in cards:
        url = card.find("a")["href"].split("?")[0]
        offer = records[url]["lowest_offer"]
        terms = next(p for p in card.find_all("p") if p.get_text().startswith("IVA inclusa"))
        text = terms.get_text(" ", strip=True)
        if Decimal(offer["shipping"]):
            assert text == f"IVA inclusa · spedizione {format_money(offer['shipping'], 'EUR', 'it')}", text
        else:
            assert text in ("IVA inclusa · spedizione gratuita", "IVA inclusa · nessuna spedizione: consegna per e-mail")


def one_click_settings() -> dict:
    return site_settings(NEWSLETTER_UNSUBSCRIBE_POST=True,
                         NEWSLETTER_UNSUBSCRIBE_URL="https://liste.cordeelegni.example/disiscriviti")


def https_target(message) -> str:
    [url] = [target.strip().strip("<>") for target in message["List-Unsubscribe"].split(",")
             if target.strip().startswith("<https:")]
    return url


def test_one_click_unsubscribe_names_each_recipient_with_a_token_the_endpoint_can_verify(shop):
    shop.environ["VETRINA_NEWSLETTER_SECRET"] = SECRET
    shop.newsletter(settings=one_click_settings())
    tokens = {}
    for to, message in shop.inbox.received:
        assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
        url = urlparse(https_target(message))
        assert (url.scheme, url.netloc, url.path) == ("https", "liste.cordeelegni.example", "/disiscriviti")
        query = parse_qs(url.query)
        assert query["a"] == [to]  # the POST carries nothing else: the URL says who unsubscribes
        assert oneclick.verify(query["a"][0], query["t"][0], SECRET)
        tokens[to] = query["t"][0]
    assert len(tokens) == 2 and len(set(tokens.values())) == 2
    assert not oneclick.verify("due@example.org", tokens["uno@example.org"], SECRET)  # not someone else's
    assert not oneclick.verify("uno@example.org", tokens["uno@example.org"], OTHER_SECRET)


@pytest.mark.parametrize("secret, problem", [(None, "is not set"), ("troppo-corto", "is shorter than 32 characters")])
def test_one_click_unsubscribe_without_a_good_secret_stops_before_anything_is_written(shop, secret, problem):
    if secret:
        shop.environ["VETRINA_NEWSLETTER_SECRET"] = secret
    for send in (True, False):  # the preview too: it shows the message as it will be sent
        with pytest.raises(NewsletterConfigurationError, match=f"VETRINA_NEWSLETTER_SECRET {problem}") as failure:
            shop.newsletter(settings=one_click_settings(), send=send)
        assert "NEWSLETTER_UNSUBSCRIBE_POST" in str(failure.value) and "\n" not in str(failure.value)
    assert shop.inbox.messages == [] and not shop.campaigns.exists() and not shop.state.exists()


@pytest.mark.parametrize("overrides, error", [
    ({"NEWSLETTER_UNSUBSCRIBE_POST": True, "NEWSLETTER_UNSUBSCRIBE_URL": "http://shop.example/off"}, "needs an https"),
    ({"NEWSLETTER_UNSUBSCRIBE_POST": "yes"}, "must be True or False"),
    ({"NEWSLETTER_UNSUBSCRIBE_URL": "/newsletter/"}, "must be an absolute URL"),
])
def test_unsubscribe_settings_are_checked(tmp_path, overrides, error):
    settings = {"SITEURL": SITE, "BUSINESS_EMAIL": "ciao@example.org", **overrides}
    with pytest.raises(NewsletterConfigurationError, match=error) as failure:
        NewsletterSettings.from_settings(settings, tmp_path)
    assert "NEWSLETTER_UNSUBSCRIBE_" in str(failure.value) and "\n" not in str(failure.value)


def test_a_second_run_sends_nothing_and_says_so(shop):
    shop.newsletter()
    before = shop.state.read_bytes()
    result = shop.newsletter()
    assert result.number is None and "Nothing new" in result.message
    assert len(shop.inbox.messages) == 2 and shop.state.read_bytes() == before


def test_a_run_after_a_new_post_sends_only_that_post(shop):
    shop.newsletter()
    result = shop.newsletter("two")
    assert result.number == 2 and result.items == [SECOND_GUID]
    assert titles(shop.inbox.messages[-1]) == ["Seconda guida"]
    assert "Prima guida" not in BeautifulSoup(html_part(shop.inbox.messages[-1]), "html.parser").get_text()
    issues = shop.issues()
    assert [issue["number"] for issue in issues] == [1, 2] and issues[1]["items"] == [SECOND_GUID]
    assert shop.inbox.count() == {"uno@example.org": 2, "due@example.org": 2}


def test_a_retry_sends_the_frozen_issue_and_the_next_run_the_new_post(shop):
    shop.inbox.defer = {"due@example.org"}
    with pytest.raises(NewsletterError, match="unfinished") as failure:
        shop.newsletter("one")
    assert failure.value.result.failed == [("due@example.org", "450 4.2.1 mailbox busy, try later")]
    first = shop.inbox.messages[0]
    # The issue and its items are recorded when the campaign is frozen, before any message.
    assert [issue["number"] for issue in shop.issues()] == [1] and "recipients" not in shop.issues()[0]

    shop.inbox.defer = set()
    retry = shop.newsletter("two")  # the second post is published in between: the retry ignores it
    assert retry.number == 1 and retry.resumed and retry.sent_to == 1 and retry.skipped == 1
    resent = shop.inbox.messages[1]
    assert resent["To"] == "due@example.org" and resent["Subject"] == first["Subject"]
    assert titles(resent) == titles(first) == ["Prima guida"]

    following = shop.newsletter("two")
    assert following.number == 2 and following.items == [SECOND_GUID] and not following.resumed
    assert [titles(message) for message in shop.inbox.messages[2:]] == [["Seconda guida"], ["Seconda guida"]]
    assert shop.inbox.count() == {"uno@example.org": 2, "due@example.org": 2}
    assert [(issue["number"], issue["recipients"]) for issue in shop.issues()] == [(1, 2), (2, 2)]


def test_an_address_refused_for_good_bounces_and_the_next_issue_still_goes_out(shop):
    shop.recipients.write_text("uno@example.org\ndue@example.org\ntre@example.org\n", encoding="utf-8")
    shop.inbox.refuse = {"due@example.org"}  # 550 at RCPT: no such mailbox
    shop.inbox.reject_content = {"tre@example.org"}  # 554 to the message itself
    result = shop.newsletter("one")  # no error: nothing is left that a retry could change
    assert result.sent_to == 1 and result.failed == []
    assert result.bounced == [("due@example.org", "550 5.1.1 mailbox unavailable"),
                              ("tre@example.org", "554 5.7.1 message refused")]
    assert "2 bounced" in result.message
    assert [line.split(": ")[1] for line in result.summary() if line.startswith("  bounced: ")] == [
        "due@example.org", "tre@example.org"]
    lines = shop.status()
    assert "complete since" in lines[0] and lines[1] == "  sent 1, failed 0, bounced 2, in doubt 0, pending 0"
    assert "  bounced: due@example.org: 550 5.1.1 mailbox unavailable" in lines
    assert shop.newsletter("one").number is None  # never tried again
    shop.inbox.refuse, shop.inbox.reject_content = set(), set()
    following = shop.newsletter("two")  # the bounces do not hold issue 2 back
    assert following.number == 2 and following.items == [SECOND_GUID] and following.sent_to == 3
    attempts = {entry.address: (entry.state, entry.attempts)
                for entry in Journal(shop.campaigns / "numero-1" / "journal").entries.values()}
    assert attempts["due@example.org"] == (State.BOUNCED, 1) and attempts["tre@example.org"] == (State.BOUNCED, 1)
    assert shop.inbox.count() == {"uno@example.org": 2, "due@example.org": 1, "tre@example.org": 1}


def test_messages_in_doubt_stay_reachable_when_later_issues_go_out(shop):
    shop.inbox.drop_after_data = {"due@example.org"}
    with pytest.raises(NewsletterError, match="1 in doubt"):
        shop.newsletter("one")
    shop.inbox.drop_after_data = {"uno@example.org"}
    with pytest.raises(NewsletterError, match="1 in doubt") as failure:
        shop.newsletter("two")  # campaign 1 is complete: issue 2 goes out, and the run says what it leaves behind
    second = failure.value.result
    assert second.number == 2 and second.sent_to == 1
    assert second.warnings == ["Campaign numero-1 has 1 message(s) in doubt (due@example.org): see --status; "
                               "--resend-in-doubt 1 resends them."]
    assert second.warnings[0] in second.summary()
    lines = shop.status()
    assert [line.split(":")[0] for line in lines if line.startswith("Campaign ")] == ["Campaign numero-2",
                                                                                      "Campaign numero-1"]
    assert [line.split(" <")[0] for line in lines if line.startswith("  in doubt: ")] == [
        "  in doubt: uno@example.org", "  in doubt: due@example.org"]
    dry = shop.newsletter("two", dry_run=True, resend_in_doubt=True)
    assert "numero-1: resend 1 in doubt (due@example.org)" in dry.message
    assert "numero-2: resend 1 in doubt (uno@example.org)" in dry.message
    before = {to: shop.inbox.message_ids(to) for to in ("uno@example.org", "due@example.org")}
    result = shop.newsletter("two", resend_in_doubt=True)  # every campaign's
    assert result.sent_to == 2 and [part.campaign for part in result.parts] == ["numero-1", "numero-2"]
    assert shop.inbox.message_ids("due@example.org") == before["due@example.org"] + before["due@example.org"][:1]
    assert shop.inbox.message_ids("uno@example.org") == before["uno@example.org"] + before["uno@example.org"][1:]
    assert not any(line.startswith("  in doubt: ") or line.startswith("Campaign numero-1") for line in shop.status())
    settled = json.loads((shop.campaigns / "numero-1" / "campaign.json").read_text(encoding="utf-8"))["settled"]
    assert settled  # nothing can happen to it any more: no run reads its journal again
    again = shop.newsletter("two", resend_in_doubt=True)
    assert again.message.startswith("No campaign has a message in doubt") and len(shop.inbox.messages) == 6


def test_resend_in_doubt_takes_the_number_of_a_campaign_that_exists(shop):
    shop.newsletter("one")
    with pytest.raises(NewsletterError, match="^--resend-in-doubt 7: there is no campaign 7 ") as failure:
        shop.newsletter(resend_in_doubt="7")
    assert "\n" not in str(failure.value)
    with pytest.raises(NewsletterError, match="takes a campaign number .*not 'ultima'"):
        shop.newsletter(resend_in_doubt="ultima")
    result = shop.newsletter(resend_in_doubt=1)  # settled: said, nothing sent
    assert "no message in doubt" in result.message and len(shop.inbox.messages) == 2


def test_recipients_are_normalised_and_deduplicated_and_bad_lines_reported(shop):
    shop.recipients.write_text("  Uno@Example.ORG \nuno@example.org\n\n# un commento\nUNO@EXAMPLE.org  # di nuovo\n"
                               "mario.rossi@\ndue@example.org\n", encoding="utf-8")
    result = shop.newsletter()
    assert shop.inbox.count() == {"Uno@example.org": 1, "due@example.org": 1}
    problems = [str(problem) for problem in result.problems]
    assert problems[0].startswith(f"{shop.recipients}:6: 'mario.rossi@'") and "domain" in problems[0]
    assert [p.split(":")[1] for p in problems[1:]] == ["2", "5"] and "repeats the address of line 1" in problems[1]


def test_unsubscribed_addresses_are_never_sent_to(shop):
    first = unsubscribe(shop.root, shop.settings, "  DUE@Example.ORG ")
    again = unsubscribe(shop.root, shop.settings, "due@example.org")
    assert "unsubscribed" in first and "already" in again
    listed = (shop.root / "newsletter" / "disiscritti.txt").read_text(encoding="utf-8")
    assert [line for line in listed.splitlines() if not line.startswith("#")] == ["DUE@example.org"]
    with pytest.raises(NewsletterError, match="--unsubscribe: 'nobody'"):
        unsubscribe(shop.root, shop.settings, "nobody")
    result = shop.newsletter()
    assert shop.inbox.count() == {"uno@example.org": 1} and result.suppressed == 1


def test_dry_run_says_what_a_send_would_do_and_sends_and_writes_nothing(shop):
    result = shop.newsletter(dry_run=True)
    assert "start campaign numero-1" in result.message and "send to 2 recipients" in result.message
    assert shop.inbox.messages == [] and not shop.state.exists() and not shop.campaigns.exists()

    shop.inbox.defer = {"due@example.org"}
    with pytest.raises(NewsletterError):
        shop.newsletter()
    journal_files = sorted((shop.campaigns / "numero-1" / "journal").iterdir())
    before = [path.read_bytes() for path in journal_files]
    result = shop.newsletter("two", dry_run=True)
    assert "resume campaign numero-1" in result.message
    assert "send to 1 recipients" in result.message and "skip 1 as sent" in result.message
    assert sorted((shop.campaigns / "numero-1" / "journal").iterdir()) == journal_files
    assert [path.read_bytes() for path in journal_files] == before and len(shop.inbox.messages) == 1


def test_status_shows_the_campaign_counts_and_the_failed_addresses(shop):
    assert shop.status() == [f"No campaign yet in {shop.campaigns}."]
    shop.inbox.defer = {"due@example.org"}
    with pytest.raises(NewsletterError):
        shop.newsletter()
    lines = shop.status()
    assert lines[0].startswith('Campaign numero-1: issue 1, "Corde & Legni: le novità di novembre 2026"')
    assert "unfinished" in lines[0]
    assert lines[1] == "  sent 1, failed 1, bounced 0, in doubt 0, pending 0, suppressed 0"
    assert "  failed: due@example.org: 450 4.2.1 mailbox busy, try later" in lines
    shop.inbox.defer = set()
    shop.newsletter()
    lines = shop.status()
    assert "complete since" in lines[0] and lines[1] == "  sent 2, failed 0, bounced 0, in doubt 0, pending 0"


# --- the parts, without SMTP -----------------------------------------------------------------------------
@pytest.mark.parametrize("written, normal", [
    ("mario.rossi@example.org", "mario.rossi@example.org"),
    ("  Mario.Rossi@Example.ORG\t", "Mario.Rossi@example.org"),
    ("o'brien+news@sub.example.co.uk", "o'brien+news@sub.example.co.uk"),
    ("info@caffè.example", "info@xn--caff-8oa.example"),
    ("info@Caffè.EXAMPLE", "info@xn--caff-8oa.example"),
    ("info@straße.de", "info@xn--strae-oqa.de"),  # IDNA 2003 would write strasse.de, someone else's domain
    ("info@xn--strae-oqa.de", "info@xn--strae-oqa.de"),
    ("a#b@example.org", "a#b@example.org"),
])
def test_addresses_are_normalised(written, normal):
    assert recipients.normalise(written) == normal


@pytest.mark.parametrize("written, reason", [
    ("mario.rossi", "exactly one @"),
    ("mario@rossi@example.org", "exactly one @"),
    ("mario.rossi@", "invalid domain"),
    ("@example.org", "before the @"),
    ("mario..rossi@example.org", "before the @"),
    ("mario@localhost", "invalid domain"),
    ("mario@example.123", "invalid domain"),
    ("mario@-example.org", "invalid domain"),
    ("Mario <mario@example.org>", "one bare e-mail address"),
    ("mario@example.org, anna@example.org", "one bare e-mail address"),
    ("andrè@example.org", "SMTPUTF8"),
    ("mario@ex\u200dample.org", "invalid international domain"),  # IDNA 2003 drops the joiner: example.org
])
def test_invalid_addresses_are_refused_with_a_reason(written, reason):
    with pytest.raises(ValueError, match=reason):
        recipients.normalise(written)


def test_the_address_list_keeps_the_first_spelling_and_reports_lines():
    parsed = recipients.parse("# iscritti\nAnna@Example.org\n\nanna@EXAMPLE.org\nnope\nbruno@example.org # fiera\n",
                              "iscritti.txt")
    assert [(r.address, r.line) for r in parsed.recipients] == [("Anna@example.org", 2), ("bruno@example.org", 6)]
    assert [str(p) for p in parsed.invalid] == ["iscritti.txt:5: 'nope' is not an e-mail address (it needs exactly "
                                                "one @); fix or remove the line"]
    assert [p.line for p in parsed.duplicates] == [4]


def test_a_byte_order_mark_at_the_start_of_a_list_is_not_part_of_the_first_address(tmp_path):
    path = tmp_path / "iscritti.txt"
    path.write_text("anna@example.org\nbruno@example.org\n", encoding="utf-8-sig")
    parsed = recipients.parse(path.read_text(encoding="utf-8"), str(path))
    assert [(r.address, r.line) for r in parsed.recipients] == [("anna@example.org", 1), ("bruno@example.org", 2)]
    assert parsed.invalid == []


def test_the_journal_writes_each_change_durably_and_reads_it_back(tmp_path):
    folder = tmp_path / "journal"
    book = Journal(folder)
    assert book.state("anna@example.org") is State.PENDING
    book.begin("anna@example.org", "Anna@example.org", "<m1@x>", "Sun, 22 Nov 2026 10:00:00 +0100")
    assert Journal(folder).state("anna@example.org") is State.IN_FLIGHT  # on disk before the message goes
    book.sent("anna@example.org", "250 OK queued")
    [path] = list(folder.iterdir())
    assert "anna" not in path.name.lower()  # no address in file names
    saved = json.loads(path.read_text(encoding="utf-8"))
    assert saved["state"] == "sent" and saved["reply"] == "250 OK queued" and saved["message_id"] == "<m1@x>"
    again = Journal(folder).entries["anna@example.org"]
    assert again.address == "Anna@example.org" and again.attempts == 1 and again.state is State.SENT


def test_a_durable_write_syncs_the_file_before_the_rename_and_the_folder_after(tmp_path, monkeypatch):
    import os

    synced = []
    real_fsync = os.fsync

    def recording_fsync(descriptor):
        synced.append(os.readlink(f"/proc/self/fd/{descriptor}"))
        real_fsync(descriptor)

    monkeypatch.setattr(durable.os, "fsync", recording_fsync)
    target = tmp_path / "entry.json"
    durable.write_json(target, {"state": "in_flight"})
    temp, folder = synced
    assert Path(temp).parent == tmp_path and durable.is_temp(Path(temp)) and folder == str(tmp_path)
    assert json.loads(target.read_text(encoding="utf-8")) == {"state": "in_flight"}
    assert [path.name for path in tmp_path.iterdir()] == ["entry.json"]


def test_journal_transitions_keep_the_message_id_and_refuse_to_resend_a_sent_message(tmp_path):
    book = Journal(tmp_path)
    book.begin("a@x.org", "a@x.org", "<first@x>", "date one")
    book.failed("a@x.org", "451 try later")
    retried = book.begin("a@x.org", "a@x.org", "<second@x>", "date two")
    assert (retried.message_id, retried.date, retried.attempts) == ("<first@x>", "date one", 2)
    book.in_doubt("a@x.org", "connection lost")
    book.begin("a@x.org", "a@x.org", "<third@x>", "date three")
    book.sent("a@x.org", "250 OK")
    with pytest.raises(JournalError, match="from sent to in_flight"):
        book.begin("a@x.org", "a@x.org", "<fourth@x>", "date four")
    with pytest.raises(JournalError, match="from pending to sent"):
        book.sent("b@x.org", "250 OK")  # a message never begun cannot be sent
    book.begin("c@x.org", "c@x.org", "<c@x>", "date")
    book.bounced("c@x.org", "550 5.1.1 no such user")
    assert Journal(tmp_path).state("c@x.org") is State.BOUNCED
    with pytest.raises(JournalError, match="from bounced to in_flight"):
        book.begin("c@x.org", "c@x.org", "<c@x>", "date")


def test_recovery_puts_the_message_in_flight_in_doubt_and_ignores_half_written_files(tmp_path):
    book = Journal(tmp_path)
    book.begin("a@x.org", "a@x.org", "<a@x>", "d")
    book.sent("a@x.org", "250 OK")
    book.begin("b@x.org", "b@x.org", "<b@x>", "d")  # the run dies here
    (tmp_path / f"{durable.TEMP_PREFIX}999-half.json").write_text('{"key": "c@x.org", "sta', encoding="utf-8")
    reopened = Journal(tmp_path)
    assert set(reopened.entries) == {"a@x.org", "b@x.org"}
    [recovered] = reopened.recover()
    assert recovered.key == "b@x.org" and recovered.message_id == "<b@x>"
    assert Journal(tmp_path).state("b@x.org") is State.IN_DOUBT
    reopened.remove_temp_files()
    assert not any(durable.is_temp(path) for path in tmp_path.iterdir())


def test_a_damaged_journal_entry_is_reported_with_its_file(tmp_path):
    (tmp_path / "0123.json").write_text("{not json", encoding="utf-8")
    with pytest.raises(JournalError, match="0123.json: not a journal entry"):
        Journal(tmp_path)


def test_a_failed_durable_write_leaves_the_old_file_and_no_temp_file(tmp_path):
    target = tmp_path / "state.json"
    durable.write_json(target, {"issues": [1]})
    blocker = tmp_path / "blocked.json"
    (blocker / "inside").mkdir(parents=True)  # os.replace cannot put a file over a non-empty folder
    with pytest.raises(OSError):
        durable.write_json(blocker, {"issues": [2]})
    assert json.loads(target.read_text(encoding="utf-8")) == {"issues": [1]}
    assert sorted(path.name for path in tmp_path.iterdir()) == ["blocked.json", "state.json"]


def test_the_plan_sends_to_pending_and_failed_and_skips_sent_suppressed_and_in_doubt():
    def entry(key, state):
        return journal.Entry(key, key, state, message_id=f"<{key}>")

    listed = [recipients.Recipient(f"{name}@x.org") for name in ("p", "f", "s", "d", "u", "us")]
    entries = {e.key: e for e in [entry("f@x.org", State.FAILED), entry("s@x.org", State.SENT),
                                  entry("d@x.org", State.IN_DOUBT), entry("us@x.org", State.SENT)]}
    planned = plan.make(listed, {"u@x.org", "us@x.org"}, entries)
    assert [r.address for r in planned.to_send] == ["p@x.org", "f@x.org"] and planned.retries == 1
    assert [r.address for r in planned.already_sent] == ["s@x.org", "us@x.org"]
    assert [r.address for r in planned.suppressed] == ["u@x.org"]
    assert [e.key for e in planned.in_doubt] == ["d@x.org"] and planned.resend == []
    again = plan.make(listed, {"u@x.org"}, entries, completed=True, resend_in_doubt=True)
    assert again.to_send == [] and [r.address for r in again.resend] == ["d@x.org"] and not again.unfinished



def test_the_plan_never_retries_a_bounced_address_and_it_holds_no_campaign_open():
    listed = [recipients.Recipient("s@x.org"), recipients.Recipient("b@x.org")]
    entries = {"s@x.org": journal.Entry("s@x.org", "s@x.org", State.SENT),
               "b@x.org": journal.Entry("b@x.org", "b@x.org", State.BOUNCED, reply="550 no such user")}
    planned = plan.make(listed, set(), entries)
    assert planned.to_send == [] and [e.key for e in planned.bounced] == ["b@x.org"] and not planned.unfinished
    assert plan.make(listed, set(), entries, resend_in_doubt=True).recipients == []


@pytest.mark.parametrize("code, outcome", [
    (550, mail.Outcome.BOUNCED), (551, mail.Outcome.BOUNCED), (552, mail.Outcome.BOUNCED),
    (554, mail.Outcome.BOUNCED), (421, mail.Outcome.REFUSED), (450, mail.Outcome.REFUSED),
    (451, mail.Outcome.REFUSED), (452, mail.Outcome.REFUSED),
])
def test_a_5xx_reply_is_a_bounce_and_a_4xx_one_a_failure_to_retry(code, outcome):
    delivery = mail.refusal(code, b"5.1.1  the  reason")
    assert delivery.outcome is outcome and delivery.reply == f"{code} 5.1.1 the reason"


def test_a_second_holder_of_the_lock_is_refused_at_once_with_the_lock_file(tmp_path):
    path = tmp_path / "invio.lock"
    with lock.held(path):
        assert not lock.is_free(path)
        with pytest.raises(lock.LockBusy, match=f"{path} is held by process \\d+"):
            with lock.held(path):
                pass
    assert lock.is_free(path)


def test_a_reader_at_the_instant_a_send_starts_does_not_make_the_send_refuse(tmp_path, monkeypatch):
    """--status, --dry-run or the command's early check look at the lock at the very moment a send takes it."""
    import fcntl

    path = tmp_path / "invio.lock"
    with lock.held(path):
        pass  # an earlier send left its files, as every send does
    real_flock = fcntl.flock
    tried, outcome, readers = threading.Event(), [], []

    def start_send():
        try:
            with lock.held(path):
                outcome.append("sending")
        except lock.LockBusy as error:
            outcome.append(str(error))

    sender = threading.Thread(target=start_send)

    def flock(descriptor, operation):
        if operation & fcntl.LOCK_SH and not readers:
            readers.append(descriptor)
            real_flock(descriptor, operation)  # the reader holds what it locks to look...
            sender.start()  # ...as a send starts,
            tried.wait(60)  # and the send tries the lock while the reader holds it
            return None
        try:
            return real_flock(descriptor, operation)
        finally:
            if operation == fcntl.LOCK_EX | fcntl.LOCK_NB:
                tried.set()

    monkeypatch.setattr(lock.fcntl, "flock", flock)
    lock.is_free(path)
    sender.join(60)
    assert readers and outcome == ["sending"]


def test_the_one_click_header_follows_the_setting():
    plain = mail.message("S", FROM, "a@x.org", "<p>x</p>", "x", "", "https://x.example/off")
    one_click = mail.message("S", FROM, "a@x.org", "<p>x</p>", "x", "", "https://x.example/off", one_click=True)
    assert plain["List-Unsubscribe-Post"] is None and plain["List-Unsubscribe"] == "<https://x.example/off>"
    assert one_click["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"


# --- one-click unsubscribe tokens ------------------------------------------------------------------------
def test_the_unsubscribe_token_is_the_same_for_every_spelling_of_an_address():
    token = oneclick.token("anna@example.org", SECRET)
    assert token == oneclick.token("  Anna@EXAMPLE.org ", SECRET)
    assert len(token) == 43 and token.isascii() and "=" not in token  # 32 bytes, URL-safe base64
    assert token != oneclick.token("anna@example.org", OTHER_SECRET)
    with pytest.raises(ValueError):
        oneclick.token("anna@example.org", "")


@pytest.mark.parametrize("address, token_of, secret, valid", [
    ("anna@example.org", "anna@example.org", SECRET, True),
    ("ANNA@Example.ORG", "anna@example.org", SECRET, True),
    ("info@straße.de", "info@xn--strae-oqa.de", SECRET, True),
    ("bruno@example.org", "anna@example.org", SECRET, False),
    ("info@strasse.de", "info@straße.de", SECRET, False),
    ("anna@example.org", "anna@example.org", OTHER_SECRET, False),
    ("anna@example.org", "anna@example.org", "", False),
    ("not an address", "anna@example.org", SECRET, False),
])
def test_verify_accepts_only_the_token_of_that_address_and_secret(address, token_of, secret, valid):
    assert oneclick.verify(address, oneclick.token(token_of, SECRET), secret) is valid


@pytest.mark.parametrize("token", ["", "x", "è" * 43, None])
def test_verify_refuses_a_malformed_token(token):
    assert oneclick.verify("anna@example.org", token, SECRET) is False
    genuine = oneclick.token("anna@example.org", SECRET)
    assert oneclick.verify("anna@example.org", genuine[:-1] + ("A" if genuine[-1] != "A" else "B"), SECRET) is False


def test_the_one_click_url_keeps_the_endpoint_query_and_carries_the_address_encoded():
    url = oneclick.url("https://x.example/off?lista=novita#modulo", "o'brien+news@example.org", SECRET)
    parts = urlparse(url)
    assert parts.fragment == "modulo" and "o%27brien%2Bnews%40example.org" in parts.query
    query = parse_qs(parts.query)
    assert query["lista"] == ["novita"] and query["a"] == ["o'brien+news@example.org"]
    assert oneclick.verify(query["a"][0], query["t"][0], SECRET)
