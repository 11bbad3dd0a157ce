"""What each form does once its post has passed the checks: store it, owe its e-mails, answer with a page."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import secrets
import urllib.request
from decimal import Decimal
from pathlib import Path
from urllib.parse import urlencode

from newsletter import oneclick
from newsletter.recipients import Recipient
from shop.cart import SENT_PARAMETER, CartError, PriceList

from . import lists, validate
from .mailer import message
from .render import N_
from .store import as_json, now, parse, stamp

logger = logging.getLogger(__name__)
DRAFT_HOURS = 24  # a withdrawal not confirmed within this is forgotten


# --- orders ---------------------------------------------------------------------------------------------
def price_list(app) -> PriceList:
    """The published cart.json, read again at most once a minute (a path in development, a URL in production)."""
    cached = getattr(app, "_prices", None)
    if cached and (now() - cached[0]).total_seconds() < 60:
        return cached[1]
    source = app.config.cart_json
    if source.startswith(("http://", "https://")):
        with urllib.request.urlopen(source, timeout=10) as response:
            data = json.loads(response.read())
    else:
        data = json.loads(Path(source).read_text(encoding="utf-8"))
    prices = PriceList.from_json(data)
    app._prices = (now(), prices)
    return prices


def order(app, request, lang):
    form, problems = validate.order(request.form)
    if problems:
        return form_problems(app, lang, problems)
    try:
        totals = price_list(app).totals(form.lines)
    except CartError as error:
        return app.problem(lang, 400, "The order could not be priced: %(reason)s. Please check the cart.",
                           reason=str(error))
    except (OSError, ValueError) as error:
        logger.error("forms: the price list %s could not be read: %s", app.config.cart_json, error)
        return app.problem(lang, 503, "Orders cannot be received right now. Please try again later.")
    lines = [{"sku": line.offer.sku, "name": line.offer.name, "quantity": line.quantity,
              "price": str(line.offer.price), "total": str(line.total)} for line in totals.lines]
    data = {"name": form.name, "email": form.email, "address": form.address, "phone": form.phone,
            "note": form.note, "lines": lines, "subtotal": str(totals.subtotal), "shipping": str(totals.shipping),
            "total": str(totals.total), "currency": totals.currency,
            "seen_total": str(form.seen_total) if form.seen_total is not None else None}
    fingerprint = hashlib.sha256(as_json({k: data[k] for k in ("name", "email", "address", "note", "lines")})
                                 .encode("utf-8")).hexdigest()
    received = now()
    cutoff = stamp(received - dt.timedelta(minutes=app.config.duplicate_minutes))
    with app.store.transaction() as db:
        if form.nonce:
            same = db.execute("SELECT * FROM submissions WHERE key = ?", (f"nonce:{form.nonce}",)).fetchone()
        else:
            same = db.execute("SELECT * FROM submissions WHERE kind = 'order' AND key LIKE ? AND created >= ? "
                              "ORDER BY id LIMIT 1", (f"{fingerprint}:%", cutoff)).fetchone()
        if same is None:
            key = f"nonce:{form.nonce}" if form.nonce else f"{fingerprint}:{stamp(received)}"
            number = db.execute("INSERT INTO submissions (kind, key, status, lang, created, data, ip) VALUES "
                                "('order', ?, 'received', ?, ?, ?, ?)",
                                (key, lang, stamp(received), as_json(data), request.ip)).lastrowid
            reference = order_reference(number, received)
            values = {"order": data, "reference": reference, "received": received}
            shop_text = app.renderer.render(app.config.default_lang, "mail/order_shop.txt", **values)
            customer_text = app.renderer.render(lang, "mail/order_customer.txt", **values)
            app.store.queue(db, f"order:{number}", "shop", app.config.shop_email, message(
                app.sender, app.config.shop_email, app.renderer.translate(
                    app.config.default_lang, "Order %(reference)s from %(name)s", reference=reference,
                    name=form.name), shop_text, reply_to=form.email))
            app.store.queue(db, f"order:{number}", "customer", form.email, message(
                app.sender, form.email, app.renderer.translate(lang, "Your order %(reference)s", reference=reference),
                customer_text, reply_to=app.config.shop_email))
        else:
            number, received, data = same["id"], parse(same["created"]), json.loads(same["data"])
    seen = Decimal(data["seen_total"]) if data.get("seen_total") is not None else None
    cart_page = app.site["cart"].get(lang) or app.site["cart"].get(app.config.default_lang)
    back = f"{cart_page}?{urlencode({SENT_PARAMETER: form.nonce})}" if form.nonce and cart_page else None
    return app.page(lang, "order.html", order=data, reference=order_reference(number, received),
                    received=received, differs=seen is not None and seen != Decimal(data["total"]),
                    repeated=same is not None, back=back)


def order_reference(number: int, received: dt.datetime) -> str:
    return f"{received.year}-{number:05d}"


def form_problems(app, lang, problems):
    labels = {"name": N_("Name"), "email": N_("E-mail"), "address": N_("Delivery address"), "phone": N_("Phone"),
              "note": N_("Note"), "order": N_("Order reference"), "items": N_("Items"), "order_date": N_("Order date"),
              "sku": N_("Cart"), "quantity": N_("Cart"), "total": N_("Total"), "consent": N_("Consent"),
              "nonce": N_("Cart"), "key": N_("Form")}
    shown = [(app.renderer.translate(lang, labels.get(name, name)), app.renderer.translate(lang, text))
             for name, text in problems]
    return app.page(lang, "problem.html", status=400, title=app.renderer.translate(lang, "Please check the form"),
                    message=app.renderer.translate(lang, "Go back to the form, correct these fields and send it again:"),
                    problems=shown)


# --- withdrawal (Directive 2011/83/EU art. 11a): a declaration, then its confirmation -------------------------
def withdrawal(app, request, lang):
    form, problems = validate.withdrawal(request.form)
    if problems:
        return form_problems(app, lang, problems)
    key = secrets.token_urlsafe(24)
    data = {"name": form.name, "order": form.order, "email": form.email, "items": form.items,
            "order_date": form.order_date}
    with app.store.transaction() as db:
        db.execute("DELETE FROM submissions WHERE kind = 'withdrawal' AND status = 'draft' AND created < ?",
                   (stamp(now() - dt.timedelta(hours=DRAFT_HOURS)),))
        db.execute("INSERT INTO submissions (kind, key, status, lang, created, data, ip) VALUES "
                   "('withdrawal', ?, 'draft', ?, ?, ?, ?)", (key, lang, stamp(now()), as_json(data), request.ip))
    return app.page(lang, "withdrawal_confirm.html", declaration=data, key=key)


def withdrawal_confirm(app, request, lang):
    key = request.field("key")
    with app.store.transaction() as db:
        row = db.execute("SELECT * FROM submissions WHERE kind = 'withdrawal' AND key = ?", (key,)).fetchone()
        stale = stamp(now() - dt.timedelta(hours=DRAFT_HOURS))
        if row is None or (row["status"] == "draft" and row["created"] < stale):
            return app.problem(lang, 404, "This withdrawal is not known, or was not confirmed within a day. "
                                          "Please fill in the withdrawal form again.")
        lang = row["lang"]
        data = json.loads(row["data"])
        if row["status"] == "draft":
            received = now()
            db.execute("UPDATE submissions SET status = 'confirmed', confirmed = ? WHERE id = ? AND status = 'draft'",
                       (stamp(received), row["id"]))
            values = {"declaration": data, "received": received, "reference": f"R-{row['id']:05d}"}
            app.store.queue(db, f"withdrawal:{row['id']}", "customer", data["email"], message(
                app.sender, data["email"], app.renderer.translate(lang, "We received your withdrawal from the contract"),
                app.renderer.render(lang, "mail/withdrawal_customer.txt", **values), reply_to=app.config.shop_email))
            app.store.queue(db, f"withdrawal:{row['id']}", "shop", app.config.shop_email, message(
                app.sender, app.config.shop_email, app.renderer.translate(
                    app.config.default_lang, "Withdrawal from order %(order)s", order=data["order"]),
                app.renderer.render(app.config.default_lang, "mail/withdrawal_shop.txt", **values),
                reply_to=data["email"]))
        else:
            received = parse(row["confirmed"])
    return app.page(lang, "withdrawal_done.html", declaration=data, received=received,
                    reference=f"R-{row['id']:05d}")


# --- newsletter: double opt-in -----------------------------------------------------------------------------
def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def signup(app, request, lang):
    address, problems = validate.signup(request.form)
    if problems:
        return form_problems(app, lang, problems)
    key = Recipient(address).key
    moment = now()
    expired = stamp(moment - dt.timedelta(hours=app.config.signup_expires_hours))
    quiet = moment - dt.timedelta(minutes=app.config.signup_quiet_minutes)
    with app.store.transaction() as db:
        db.execute("DELETE FROM subscribers WHERE status = 'pending' AND requested < ?", (expired,))
        row = db.execute("SELECT * FROM subscribers WHERE key = ?", (key,)).fetchone()
        if row is not None and row["status"] == "confirmed":
            pass  # already on the list: no mail, and the page says the same as to anyone (nothing is revealed)
        elif row is not None and row["status"] == "pending" and row["mailed"] and parse(row["mailed"]) >= quiet:
            pass  # a confirmation was mailed moments ago: not a second one
        else:
            token = secrets.token_urlsafe(24)
            db.execute("INSERT INTO subscribers (key, address, status, lang, token, requested, mailed, ip) "
                       "VALUES (?, ?, 'pending', ?, ?, ?, ?, ?) ON CONFLICT (key) DO UPDATE SET "
                       "address = excluded.address, status = 'pending', lang = excluded.lang, token = excluded.token, "
                       "requested = excluded.requested, mailed = excluded.mailed, ip = excluded.ip",
                       (key, address, lang, token_hash(token), stamp(moment), stamp(moment), request.ip))
            link = f"{app.config.endpoint}/newsletter/confirm?token={token}&lang={lang}"
            app.store.queue(db, f"signup:{key}:{token_hash(token)[:16]}", "confirm", address, message(
                app.sender, address, app.renderer.translate(lang, "Confirm your subscription to the newsletter"),
                app.renderer.render(lang, "mail/signup.txt", link=link,
                                    hours=app.config.signup_expires_hours)))
    return app.page(lang, "signup_sent.html", address=address, hours=app.config.signup_expires_hours)


def signup_link(app, request, lang):
    """The e-mailed link: a page with a button, because mail scanners open links and must not confirm."""
    return app.page(lang, "signup_confirm.html", token=request.field("token"))


def signup_confirm(app, request, lang):
    token = request.field("token")
    cutoff = stamp(now() - dt.timedelta(hours=app.config.signup_expires_hours))
    with app.store.transaction() as db:
        row = db.execute("SELECT * FROM subscribers WHERE token = ? AND status = 'pending' AND requested >= ?",
                         (token_hash(token), cutoff)).fetchone() if token else None
        if row is None:
            return app.problem(lang, 404, "This confirmation link has expired or was already used. If you are not "
                                          "subscribed yet, please sign up again.")
        # The file first, inside the transaction: if it cannot be written, the sign-up stays pending.
        lists.subscribe(app.subscribers_file, app.config.suppression_file, row["address"])
        db.execute("UPDATE subscribers SET status = 'confirmed', confirmed = ?, token = NULL WHERE key = ?",
                   (stamp(now()), row["key"]))
    return app.page(row["lang"], "signup_done.html", address=row["address"])


# --- one-click unsubscribe (RFC 8058) ------------------------------------------------------------------------
def unsubscribe_link(app, request, lang):
    """(address, token, None) of a valid unsubscribe link, or (.., .., the page that says why it is not)."""
    address, token = request.field("a"), request.field("t")
    if not app.secret:
        return address, token, app.problem(
            lang, 503, "Unsubscribing here is not set up. Please reply to the newsletter instead.")
    if not oneclick.verify(address, token, app.secret):
        return address, token, app.problem(
            lang, 400, "This unsubscribe link is not valid. Please use the link of a newsletter.")
    return address, token, None


def unsubscribe_page(app, request, lang):
    address, token, refused = unsubscribe_link(app, request, lang)
    return refused or app.page(lang, "unsubscribe.html", address=address, token=token)


def unsubscribe(app, request, lang):
    # Mail clients post `List-Unsubscribe=One-Click` to the URL; the visitor's button posts the same.
    address, token, refused = unsubscribe_link(app, request, lang)
    if refused:
        return refused
    key = oneclick.identity(address)
    with app.store.transaction() as db:
        lists.unsubscribe(app.config.suppression_file, address)
        db.execute("UPDATE subscribers SET status = 'unsubscribed', unsubscribed = ?, token = NULL WHERE key = ?",
                   (stamp(now()), key))
    return app.page(lang, "unsubscribe_done.html", address=address)


# (method, path) -> (handler, origins allowed to post: "site", "both" (the site and the endpoint's own pages), None)
ROUTES = {
    ("POST", "/order"): (order, "site"),
    ("POST", "/withdrawal"): (withdrawal, "site"),
    ("POST", "/withdrawal/confirm"): (withdrawal_confirm, "both"),
    ("POST", "/newsletter"): (signup, "site"),
    ("GET", "/newsletter/confirm"): (signup_link, None),
    ("POST", "/newsletter/confirm"): (signup_confirm, "both"),
    ("GET", "/unsubscribe"): (unsubscribe_page, None),
    ("POST", "/unsubscribe"): (unsubscribe, None),  # mail clients post without Origin: the token is the proof
}
