"""The endpoint's e-mail: messages built once (with their Message-ID) when a submission is stored, delivered
afterwards from the outbox, over SMTP (VETRINA_SMTP_*) or, without SMTP in development, into a folder."""

from __future__ import annotations

import datetime as dt
import logging
import os
from email import message_from_bytes, policy
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from pathlib import Path

from core import durable
from newsletter import mail as smtp
from newsletter.settings import SmtpSettings

from .store import Store

logger = logging.getLogger(__name__)
MAX_BACKOFF = dt.timedelta(hours=6)


def message(sender: str, recipient: str, subject: str, text: str, reply_to: str = "") -> bytes:
    """A plain-text UTF-8 message, ready for the wire except for the SMTP framing."""
    mail = EmailMessage()
    mail["Subject"] = subject
    mail["From"] = sender
    mail["To"] = recipient
    if reply_to:
        mail["Reply-To"] = reply_to
    mail["Date"] = formatdate(localtime=False, usegmt=True)
    mail["Message-ID"] = make_msgid(domain=smtp.sender_domain(sender))
    mail["Auto-Submitted"] = "auto-generated"
    mail.set_content(text, cte="quoted-printable")
    return bytes(mail)


class FolderPost:
    """Development without SMTP: each message becomes an .eml file (open it to follow a confirmation link)."""

    def __init__(self, folder: Path):
        self.folder = Path(folder)

    def deliver(self, row) -> smtp.Delivery:
        durable.write_bytes(self.folder / f"{row['id']:06d}.eml", bytes(row["message"]))
        return smtp.Delivery(smtp.Outcome.SENT, f"written to {self.folder}")

    def close(self) -> None:
        pass


class SmtpPost:
    """One SMTP session for a round of deliveries, opened on the first message."""

    def __init__(self, settings: SmtpSettings, timeout: float = 20):
        self.settings = settings
        self.session = smtp.Session(settings, timeout=timeout)

    def deliver(self, row) -> smtp.Delivery:
        if not self.session.connected:
            try:
                self.session.open()
            except Exception as error:  # smtplib's errors, refused connections, TLS failures, a bad login
                return smtp.Delivery(smtp.Outcome.DROPPED, f"could not connect to {self.settings.host}: {error}")
        parsed = message_from_bytes(bytes(row["message"]), policy=policy.default)
        return self.session.deliver(self.settings.envelope_from, row["recipient"], smtp.wire_bytes(parsed))

    def close(self) -> None:
        self.session.close()


def post_office(mail_dir: Path, environ=os.environ):
    """SMTP when VETRINA_SMTP_HOST is set, else the folder."""
    if environ.get("VETRINA_SMTP_HOST"):
        return SmtpPost(SmtpSettings.from_environment(environ))
    return FolderPost(mail_dir)


def sender(environ, fallback: str) -> str:
    return environ.get("VETRINA_SMTP_FROM") or fallback


def flush(store: Store, post, retry_every: float) -> dict:
    """Deliver every message that is due, each at most once; counts by outcome."""
    counts: dict[str, int] = {}
    try:
        for row in store.due():
            if not store.claim(row["id"]):
                continue  # another worker has it
            delivery = post.deliver(row)
            outcome = delivery.outcome
            if outcome is smtp.Outcome.SENT:
                store.settle(row["id"], "sent", delivery.reply)
            elif outcome is smtp.Outcome.BOUNCED:
                store.settle(row["id"], "failed", delivery.reply)
                logger.warning("forms: message %s to %s refused for good: %s", row["id"], row["recipient"],
                               delivery.reply)
            elif outcome is smtp.Outcome.IN_DOUBT:
                store.settle(row["id"], "in_doubt", delivery.reply)
                logger.warning("forms: message %s to %s may or may not have been delivered: %s", row["id"],
                               row["recipient"], delivery.reply)
            else:  # refused for now, dropped, sender refused: nothing was delivered, try again later
                wait = min(dt.timedelta(seconds=retry_every * 2 ** row["attempts"]), MAX_BACKOFF)
                store.settle(row["id"], "pending", delivery.reply, retry_at=dt.datetime.now(dt.timezone.utc) + wait)
                logger.warning("forms: message %s to %s kept, retried in %s s: %s", row["id"], row["recipient"],
                               int(wait.total_seconds()), delivery.reply)
            counts[outcome.value] = counts.get(outcome.value, 0) + 1
    finally:
        post.close()
    return counts
