"""Build the issue's e-mail messages and send them over SMTP, one per recipient."""

from __future__ import annotations

import smtplib
import ssl
from email.message import EmailMessage
from email.utils import formatdate, make_msgid, parseaddr


def message(subject: str, sender: str, recipient: str, html: str, text: str,
            unsubscribe_email: str, unsubscribe_url: str) -> EmailMessage:
    """multipart/alternative: plain text first, HTML second, with one-click unsubscribe headers (RFC 8058)."""
    mail = EmailMessage()
    mail["Subject"] = subject
    mail["From"] = sender
    mail["To"] = recipient
    mail["Date"] = formatdate(localtime=True)
    mail["Message-ID"] = make_msgid(domain=parseaddr(sender)[1].split("@")[-1] or None)
    targets = [f"<{unsubscribe_url}>"]
    if unsubscribe_email:
        targets.insert(0, f"<mailto:{unsubscribe_email}?subject=unsubscribe>")
    mail["List-Unsubscribe"] = ", ".join(targets)
    mail["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    mail.set_content(text)
    mail.add_alternative(html, subtype="html")
    return mail


def send_all(smtp_settings, messages: list[EmailMessage], timeout: float = 30) -> None:
    """Send every message in one SMTP session; the first refusal or error stops the run and is raised."""
    with smtplib.SMTP(smtp_settings.host, smtp_settings.port, timeout=timeout) as server:
        if smtp_settings.starttls:
            server.starttls(context=ssl.create_default_context())
        if smtp_settings.user:
            server.login(smtp_settings.user, smtp_settings.password)
        for mail in messages:
            refused = server.send_message(mail)
            if refused:
                raise smtplib.SMTPRecipientsRefused(refused)
