"""The issue's e-mail messages and their delivery over SMTP, one transaction per recipient.

Delivery tells apart what happened to each message, because the journal must say it truthfully:
refused (RCPT, DATA or the content answered with an error: not delivered; for good with a 5xx reply,
for now with a 4xx one), the content accepted (delivered), or the connection lost after the content
started (in doubt).
"""

from __future__ import annotations

import enum
import hashlib
import re
import smtplib
import ssl
from dataclasses import dataclass
from email.message import EmailMessage
from email.policy import SMTP as SMTP_POLICY
from email.utils import formatdate, make_msgid, parseaddr


def message(subject: str, sender: str, recipient: str, html: str, text: str, unsubscribe_email: str,
            unsubscribe_url: str, *, one_click: bool = False, message_id: str = "", date: str = "") -> EmailMessage:
    """multipart/alternative: plain text first, HTML second, with List-Unsubscribe.

    `List-Unsubscribe-Post` (RFC 8058 one-click) only when the URL accepts that POST: a static page does not.
    Both parts are quoted-printable, so that long inlined-CSS lines never break the 998-octet limit.
    """
    mail = EmailMessage()
    mail["Subject"] = subject
    mail["From"] = sender
    mail["To"] = recipient
    mail["Date"] = date or formatdate(localtime=True)
    mail["Message-ID"] = message_id or make_msgid(domain=sender_domain(sender))
    targets = [f"<{unsubscribe_url}>"]
    if unsubscribe_email:
        targets.insert(0, f"<mailto:{unsubscribe_email}?subject=unsubscribe>")
    mail["List-Unsubscribe"] = ", ".join(targets)
    if one_click:
        mail["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    mail.set_content(text, cte="quoted-printable")
    mail.add_alternative(html, subtype="html", cte="quoted-printable")
    # A boundary derived from the Message-ID: a resend of the same message is the same bytes.
    mail.set_boundary("==" + hashlib.sha256(mail["Message-ID"].encode("utf-8")).hexdigest()[:40] + "==")
    return mail


def sender_domain(sender: str) -> str:
    return parseaddr(sender)[1].rpartition("@")[2] or "localhost"


def wire_bytes(mail: EmailMessage) -> bytes:
    """The message as it goes after DATA: CRLF line ends, leading dots doubled, ended by CRLF.CRLF."""
    data = mail.as_bytes(policy=SMTP_POLICY)
    if not data.endswith(b"\r\n"):
        data += b"\r\n"
    return re.sub(rb"(?m)^\.", b"..", data) + b".\r\n"


class Outcome(enum.Enum):
    SENT = "sent"  # the server accepted the content
    REFUSED = "refused"  # the server said not now (4xx) to this recipient or message: not delivered, retry later
    BOUNCED = "bounced"  # the server said no for good (5xx) to this recipient or message: not delivered, never retry
    SENDER_REFUSED = "sender_refused"  # MAIL FROM refused: every message would be, stop
    DROPPED = "dropped"  # the connection went before the content was sent: not delivered, safe to retry
    IN_DOUBT = "in_doubt"  # the connection went after the content started: delivered or not, nobody knows


@dataclass(frozen=True)
class Delivery:
    outcome: Outcome
    reply: str


def reply_text(code: int, text: bytes | str) -> str:
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    return f"{code} {' '.join(text.split())}".strip()


def refusal(code: int, text: bytes | str) -> Delivery:
    """A reply that is not a success: a 5xx one is permanent (RFC 5321 4.2.1), anything else may pass later."""
    outcome = Outcome.BOUNCED if 500 <= code <= 599 else Outcome.REFUSED
    return Delivery(outcome, reply_text(code, text))


class Session:
    """An SMTP connection that delivers one message at a time and can be opened again after a drop."""

    def __init__(self, smtp_settings, timeout: float = 30):
        self.settings = smtp_settings
        self.timeout = timeout
        self.server: smtplib.SMTP | None = None

    def open(self) -> None:
        """Connect, STARTTLS when set, log in when a user is set; errors propagate (nothing is in flight)."""
        server = smtplib.SMTP(self.settings.host, self.settings.port, timeout=self.timeout)
        try:
            server.ehlo()
            if self.settings.starttls:
                server.starttls(context=ssl.create_default_context())
                server.ehlo()
            if self.settings.user:
                server.login(self.settings.user, self.settings.password)
        except BaseException:
            server.close()
            raise
        self.server = server

    def close(self) -> None:
        if self.server is not None:
            try:
                self.server.quit()
            except (smtplib.SMTPException, OSError):
                self.server.close()
            self.server = None

    def deliver(self, envelope_from: str, recipient: str, data: bytes) -> Delivery:
        """One transaction (MAIL, RCPT, DATA); `data` comes from wire_bytes()."""
        server = self.server
        try:
            code, text = server.mail(envelope_from)
            if code != 250:
                self._reset()
                return Delivery(Outcome.SENDER_REFUSED, reply_text(code, text))
            code, text = server.rcpt(recipient)
            if code not in (250, 251):
                self._reset()
                return refusal(code, text)
            code, text = server.docmd("DATA")
            if code != 354:
                self._reset()
                return refusal(code, text)
        except (smtplib.SMTPException, OSError) as error:
            self._drop()
            return Delivery(Outcome.DROPPED, f"connection lost before the message was sent ({error})")
        # From here the server may hold the message: only its final reply says what became of it.
        try:
            server.send(data)
            code, text = server.getreply()
        except (smtplib.SMTPException, OSError) as error:
            self._drop()
            return Delivery(Outcome.IN_DOUBT, f"connection lost before the server confirmed the message ({error})")
        if code == 250:
            return Delivery(Outcome.SENT, reply_text(code, text))
        return refusal(code, text)

    def _reset(self) -> None:
        try:
            self.server.rset()
        except (smtplib.SMTPException, OSError):
            self._drop()

    def _drop(self) -> None:
        if self.server is not None:
            self.server.close()
            self.server = None

    @property
    def connected(self) -> bool:
        return self.server is not None
