"""What a post must pass before it is read: the origin check, the visitor's address, the rate limit. Pure.

CSRF without cookies or tokens: a browser always says where a form was posted from, in Origin (every current
browser, on every cross-site POST) or at least in Referer; a form posted from any other site, or from nowhere
it will name, is refused. A client that is not a browser can forge both, but it then attacks only itself.
"""

from __future__ import annotations

import ipaddress

from .settings import origin_of


def posted_from(origin: str | None, referer: str | None) -> str:
    """The origin a post came from: Origin, else the origin of Referer; "" when neither names one."""
    if origin and origin != "null":
        return origin_of(origin) or origin.strip().lower()
    if referer:
        return origin_of(referer)
    return ""


def same_origin(allowed: tuple[str, ...] | list[str], origin: str | None, referer: str | None) -> bool:
    """Whether the post came from one of the allowed origins (scheme, host and port exactly)."""
    source = posted_from(origin, referer)
    return bool(source) and source in allowed


def client_ip(remote_addr: str, forwarded_for: str | None, trusted: tuple[str, ...]) -> str:
    """The visitor's address: the peer's, unless the peer is a trusted proxy; then the last address in
    X-Forwarded-For that is not itself a trusted proxy (addresses before it are whatever the client wrote)."""
    trusted_nets = [ipaddress.ip_network(proxy, strict=False) for proxy in trusted]

    def is_trusted(address: str) -> bool:
        try:
            ip = ipaddress.ip_address(address.strip())
        except ValueError:
            return False
        return any(ip in net for net in trusted_nets)

    if not forwarded_for or not is_trusted(remote_addr):
        return remote_addr
    for hop in reversed([part.strip() for part in forwarded_for.split(",") if part.strip()]):
        if not is_trusted(hop):
            try:
                return str(ipaddress.ip_address(hop))
            except ValueError:
                return remote_addr
    return remote_addr


def over_limit(recent: int, limit: int) -> bool:
    """Whether one more post, after `recent` within the window, goes over the limit."""
    return recent >= limit
