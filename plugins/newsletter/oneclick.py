"""One-click unsubscribe (RFC 8058): a List-Unsubscribe URL per recipient that proves whose it is. Pure.

The mail client POSTs `List-Unsubscribe=One-Click` to the URL and nothing else, so the URL itself must say
who unsubscribes, in a way nobody else can forge: `?a=<address>&t=<token>`, the token an HMAC-SHA256 of the
recipient's normalised address under a secret only the shop knows (VETRINA_NEWSLETTER_SECRET). The endpoint
that receives the POST calls verify() with the same secret before it adds the address to the suppression list.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from urllib.parse import urlencode, urlsplit, urlunsplit

from .recipients import Recipient, normalise

ADDRESS_PARAMETER = "a"
TOKEN_PARAMETER = "t"
# Ties a token to this one use: a token made with the same secret for anything else never verifies here.
PURPOSE = b"vetrina newsletter unsubscribe\n"


def identity(address: str) -> str:
    """The subscriber the token is about: the address as the lists compare it (ValueError when invalid)."""
    return Recipient(normalise(address)).key


def token(address: str, secret: str) -> str:
    """The address's token: HMAC-SHA256 of its normalised form, URL-safe base64 without padding."""
    if not secret:
        raise ValueError("the unsubscribe token needs a secret")
    digest = hmac.new(secret.encode("utf-8"), PURPOSE + identity(address).encode("utf-8"), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def verify(address: str, token_: str, secret: str) -> bool:
    """Whether `token_` is the token of `address` under `secret` (compared in constant time)."""
    if not secret or not isinstance(token_, str) or not token_.isascii():
        return False
    try:
        expected = token(address, secret)
    except ValueError:
        return False
    return hmac.compare_digest(expected, token_)


def url(base: str, address: str, secret: str) -> str:
    """`base` with `a=<address>&t=<token>` added to its query (any query it has is kept as written)."""
    parts = urlsplit(base)
    added = urlencode({ADDRESS_PARAMETER: address, TOKEN_PARAMETER: token(address, secret)})
    return urlunsplit(parts._replace(query=f"{parts.query}&{added}" if parts.query else added))
