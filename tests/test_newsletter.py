"""invoke newsletter against a real SMTP server (aiosmtpd on 127.0.0.1): sent once, never twice, never lost."""

from __future__ import annotations

import email
import socket
from email import policy
from urllib.parse import parse_qs, urlparse

import pytest
from aiosmtpd.controller import Controller
from bs4 import BeautifulSoup
from conftest import ROOT, post, run_build, write_content
from pelican.settings import read_settings
from shop_fixtures import catalogue

from newsletter import NewsletterError, run

SITE = "https://www.cordeelegni.example"
TODAY = "2026-11-22"


class Inbox:
    """An aiosmtpd handler that keeps what it receives and can refuse one recipient."""

    def __init__(self):
        self.messages = []
        self.refuse = None

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address == self.refuse:
            return "550 5.1.1 mailbox unavailable"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        self.messages.append(email.message_from_bytes(envelope.content, policy=policy.default))
        return "250 Message accepted"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def smtp_server():
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    yield controller, inbox
    controller.stop()


@pytest.fixture
def shop(tmp_path, smtp_server):
    """A site folder with content, a recipients file and the SMTP variables of the local server."""
    controller, inbox = smtp_server
    content = tmp_path / "content"
    write_content(content, {**catalogue(),
                            "posts/a.md": post(title="Prima guida", slug="prima", date="2026-11-01 10:00",
                                               uid="11111111-2222-4333-8444-555555555555", image="images/p.png",
                                               image_alt="Una foto", body="Vedi [il blog](/blog/).\n\n[[prodotto: basso]]")})
    recipients = tmp_path / "iscritti.txt"
    recipients.write_text("uno@example.org\n# un commento\ndue@example.org\n", encoding="utf-8")
    environ = {"VETRINA_SMTP_HOST": "127.0.0.1", "VETRINA_SMTP_PORT": str(controller.port),
               "VETRINA_SMTP_STARTTLS": "false", "VETRINA_SMTP_FROM": "Corde & Legni <lettera@cordeelegni.example>",
               "VETRINA_NEWSLETTER_RECIPIENTS": str(recipients)}

    class Shop:
        def build(self):
            run_build(content, tmp_path / "output", "publishconf.py", SHOP_TODAY=TODAY)
            return read_settings(str(ROOT / "publishconf.py"), override={"THEME": str(ROOT / "theme"),
                                                                         "SHOP_TODAY": TODAY})

        def newsletter(self, send=True):
            import datetime as dt

            return run(tmp_path, self.build(), tmp_path / "output", send=send, environ=environ,
                       today=dt.date(2026, 11, 22))

    shop = Shop()
    shop.content, shop.inbox, shop.state = content, inbox, tmp_path / "newsletter" / "sent.json"
    return shop


def html_part(message):
    return message.get_body(preferencelist=("html",)).get_content()


def test_digest_is_previewed_by_default_and_nothing_is_sent(shop):
    result = shop.newsletter(send=False)
    assert result.number == 1 and shop.inbox.messages == []
    assert not shop.state.exists()
    assert sorted(p.suffix for p in result.preview) == [".eml", ".html", ".txt"]
    preview = email.message_from_bytes(result.preview[2].read_bytes(), policy=policy.default)
    assert preview.get_content_type() == "multipart/alternative"


def test_digest_is_sent_once_as_multipart_with_unsubscribe_headers_and_utm_links(shop):
    result = shop.newsletter()
    assert result.sent_to == 2 and len(shop.inbox.messages) == 2
    message = shop.inbox.messages[0]
    assert message.get_content_type() == "multipart/alternative"
    assert [part.get_content_type() for part in message.iter_parts()] == ["text/plain", "text/html"]
    assert message["Subject"] == "Corde & Legni: le novità di novembre 2026"
    assert message["To"] == "uno@example.org" and shop.inbox.messages[1]["To"] == "due@example.org"
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert "<mailto:" in message["List-Unsubscribe"] and f"<{SITE}/newsletter/>" in message["List-Unsubscribe"]
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


def test_a_second_run_sends_nothing_and_says_so(shop):
    shop.newsletter()
    before = shop.state.read_bytes()
    result = shop.newsletter()
    assert result.number is None and "Nothing new" in result.message
    assert len(shop.inbox.messages) == 2 and shop.state.read_bytes() == before


def test_a_run_after_a_new_post_sends_only_that_post(shop):
    shop.newsletter()
    write_content(shop.content, {"posts/b.md": post(title="Seconda guida", slug="seconda", date="2026-11-20 09:00",
                                                    uid="66666666-7777-4888-9999-aaaaaaaaaaaa")})
    result = shop.newsletter()
    assert result.number == 2 and [item.title for item in result.items] == ["Seconda guida"]
    latest = BeautifulSoup(html_part(shop.inbox.messages[-1]), "html.parser")
    titles = [h.get_text(strip=True) for h in latest.find_all("h3")]
    assert titles == ["Seconda guida"]
    assert "Prima guida" not in latest.get_text()
    import json

    issues = json.loads(shop.state.read_text(encoding="utf-8"))["issues"]
    assert [issue["number"] for issue in issues] == [1, 2]
    assert issues[1]["items"] == ["urn:uuid:66666666-7777-4888-9999-aaaaaaaaaaaa"]


def test_an_smtp_failure_mid_run_leaves_the_state_unchanged(shop):
    shop.newsletter()
    write_content(shop.content, {"posts/b.md": post(title="Seconda guida", slug="seconda", date="2026-11-20 09:00",
                                                    uid="66666666-7777-4888-9999-aaaaaaaaaaaa")})
    before = shop.state.read_bytes()
    shop.inbox.refuse = "due@example.org"
    with pytest.raises(NewsletterError, match="state file is unchanged") as failure:
        shop.newsletter()
    assert "due@example.org" in str(failure.value)
    assert shop.state.read_bytes() == before
    shop.inbox.refuse = None
    assert shop.newsletter().number == 2  # the same issue goes out once the server accepts it
