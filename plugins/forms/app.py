"""The forms endpoint as a WSGI application: routing, the checks every post passes, the answer pages.

Every post is checked in this order: size (413), origin (403), rate limit per visitor's IP (429); then its form
is read and stored. The pages are server-rendered HTML on the site's stylesheet, no script, in the language the
form named (`lang`, it or en).
"""

from __future__ import annotations

import logging
import os
import threading
from http import HTTPStatus
from pathlib import Path
from urllib.parse import parse_qs

from newsletter.settings import recipients_file

from . import guard, handlers, mailer
from .render import N_, Renderer
from .settings import FormsSettings, origin_of
from .store import Store

logger = logging.getLogger(__name__)
SECRET_VARIABLE = "VETRINA_NEWSLETTER_SECRET"


class Request:
    def __init__(self, environ: dict, form: dict):
        self.environ = environ
        self.method = environ.get("REQUEST_METHOD", "GET").upper()
        self.path = environ.get("PATH_INFO", "/") or "/"
        self.query = parse_qs(environ.get("QUERY_STRING", ""), keep_blank_values=True)
        self.form = form
        self.ip = ""

    def field(self, name: str) -> str:
        return ((self.form.get(name) or self.query.get(name)) or [""])[0]


class Answer:
    def __init__(self, status: int, body: str, headers: list | None = None):
        self.status, self.body, self.headers = status, body, headers or []


class FormsApp:
    """The WSGI callable; `flush()` delivers the messages that are due (the server calls it on a timer too)."""

    def __init__(self, config: FormsSettings, theme: Path, root: Path, environ=os.environ, timezone="Europe/Rome",
                 retry_every: float = 60):
        self.config = config
        self.environ = environ
        self.retry_every = retry_every
        self.store = Store(config.database)
        doubtful = self.store.recover()
        if doubtful:
            logger.warning("forms: %s message(s) were being sent when the endpoint stopped: marked in doubt, "
                           "not sent again (see the outbox table)", doubtful)
        site = {"url": config.site_url, "name": config.site_name, "endpoint": config.endpoint,
                "withdrawal": {lang: f"{config.site_url}/{page}" for lang, page in config.withdrawal_pages.items()},
                "cart": {lang: f"{config.site_url}/{page}" for lang, page in config.cart_pages.items()},
                "privacy": f"{config.site_url}/{config.privacy_page}"}
        self.site = site
        self.renderer = Renderer(theme, config.languages, config.default_lang, site, timezone)
        self.subscribers_file = recipients_file(environ, root)
        self.sender = mailer.sender(environ, f"{config.site_name} <{config.shop_email}>")
        self.secret = environ.get(SECRET_VARIABLE, "").strip()
        self.own_origin = origin_of(config.endpoint)
        self.policy = ("default-src 'none'; style-src {site}; img-src {site}; form-action 'self' {site}; "
                       "base-uri 'none'; frame-ancestors 'none'").format(site=config.site_origin)

    # --- WSGI -----------------------------------------------------------------------------------------
    def __call__(self, environ, start_response):
        try:
            answer = self.answer(environ)
        except Exception:
            logger.exception("forms: the request failed")
            answer = self.problem(self.config.default_lang, HTTPStatus.INTERNAL_SERVER_ERROR,
                                  "Something went wrong on our side. Please try again in a few minutes.")
        body = answer.body.encode("utf-8")
        headers = [("Content-Type", "text/html; charset=utf-8"), ("Content-Length", str(len(body))),
                   ("Cache-Control", "no-store"), ("Content-Security-Policy", self.policy),
                   ("X-Content-Type-Options", "nosniff"), ("Referrer-Policy", "same-origin"),
                   ("X-Frame-Options", "DENY"), *answer.headers]
        start_response(f"{answer.status} {HTTPStatus(answer.status).phrase}", headers)
        return [body]

    def answer(self, environ) -> Answer:
        method = environ.get("REQUEST_METHOD", "GET").upper()
        form = {}
        if method == "POST":
            body = self.body(environ)
            if body is None:
                return self.problem(self.lang_of(environ), HTTPStatus.REQUEST_ENTITY_TOO_LARGE,
                                    "The form is too large to be received.")
            form = parse_qs(body.decode("utf-8", "replace"), keep_blank_values=True)
        request = Request(environ, form)
        lang = self.renderer.language(request.field("lang") or self.config.default_lang)
        route = handlers.ROUTES.get((request.method, request.path.rstrip("/") or "/"))
        if route is None:
            allowed = [m for (m, path) in handlers.ROUTES if path == request.path.rstrip("/")]
            if allowed:
                return Answer(405, self.renderer.render(lang, "problem.html", title=self.renderer.translate(
                    lang, "This address takes a form"), message=self.renderer.translate(
                    lang, "Open the form on the shop's site and send it from there."), status=405),
                    [("Allow", ", ".join(sorted(set(allowed))))])
            return self.problem(lang, HTTPStatus.NOT_FOUND, "There is nothing at this address.")
        handler, origins = route
        if request.method == "POST":
            if origins:
                allowed = [self.config.site_origin] + ([self.own_origin] if origins == "both" else [])
                if not guard.same_origin(allowed, environ.get("HTTP_ORIGIN"), environ.get("HTTP_REFERER")):
                    logger.info("forms: post to %s refused from origin %r", request.path,
                                guard.posted_from(environ.get("HTTP_ORIGIN"), environ.get("HTTP_REFERER")))
                    return self.problem(lang, HTTPStatus.FORBIDDEN,
                                        "This form can only be sent from the shop's own pages.")
            request.ip = guard.client_ip(environ.get("REMOTE_ADDR", ""), environ.get("HTTP_X_FORWARDED_FOR"),
                                         self.config.trusted_proxies)
            if not self.store.count_hit(request.ip, self.config.rate_window, self.config.rate_limit):
                minutes = max(1, self.config.rate_window // 60)
                return self.problem(lang, HTTPStatus.TOO_MANY_REQUESTS,
                                    "Too many forms from your connection. Please try again in %(minutes)s minutes.",
                                    [("Retry-After", str(self.config.rate_window))], minutes=minutes)
        answer = handler(self, request, lang)
        if request.method == "POST":
            self.deliver_soon()
        return answer

    def body(self, environ) -> bytes | None:
        """The request body, or None when it is larger than FORMS_MAX_BYTES."""
        limit = self.config.max_bytes
        try:
            length = int(environ.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        if length > limit:
            return None
        data = environ["wsgi.input"].read(min(length, limit + 1)) if length else b""
        return data if len(data) <= limit else None

    def lang_of(self, environ) -> str:
        lang = parse_qs(environ.get("QUERY_STRING", "")).get("lang", [""])[0]
        return self.renderer.language(lang or self.config.default_lang)

    # --- helpers for the handlers --------------------------------------------------------------------
    def page(self, lang: str, template: str, status: int = 200, **values) -> Answer:
        return Answer(status, self.renderer.render(lang, template, status=status, **values))

    def problem(self, lang: str, status: HTTPStatus, message: str, headers=None, **values) -> Answer:
        titles = {400: N_("Please check the form"), 403: N_("Form refused"), 404: N_("Page not found"),
                  405: N_("This address takes a form"), 413: N_("Form too large"), 429: N_("Please wait a little"),
                  500: N_("Something went wrong"), 503: N_("Not available")}
        return Answer(int(status), self.renderer.render(
            lang, "problem.html", status=int(status), title=self.renderer.translate(lang, titles[int(status)]),
            message=self.renderer.translate(lang, message, **values)), headers)

    def start_delivery(self) -> threading.Thread:
        """Deliver the outbox in a thread: at once after each post, and every retry_every seconds for retries
        (so no visitor waits for the SMTP server). Each worker process may run one; a message is claimed by one."""
        if getattr(self, "_deliverer", None) is None:
            self._wake = threading.Event()

            def loop():
                while True:
                    self._wake.wait(self.retry_every)
                    self._wake.clear()
                    self.flush()

            self._deliverer = threading.Thread(target=loop, name="forms-outbox", daemon=True)
            self._deliverer.start()
        return self._deliverer

    def deliver_soon(self) -> None:
        if getattr(self, "_deliverer", None) is not None:
            self._wake.set()
        else:
            self.flush()

    def flush(self) -> dict:
        """Deliver what is due now; never raises (a message that cannot go stays in the outbox)."""
        try:
            return mailer.flush(self.store, mailer.post_office(self.config.mail_dir, self.environ), self.retry_every)
        except Exception:
            logger.exception("forms: delivering the outbox failed; the messages stay there and are retried")
            return {}
