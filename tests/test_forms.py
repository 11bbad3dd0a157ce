"""The forms endpoint's pure parts: the origin check, the visitor's address, the rate limit, the forms' fields,
the settings and where each form posts; and the build's side: the footer link, the withdrawal page, the sign-up
form, the form-action of the security policy."""

from __future__ import annotations

from decimal import Decimal
from types import SimpleNamespace

import pytest

from core import security
from forms import guard, validate
from forms.settings import FormsConfigurationError, FormsSettings, origin_of
from newsletter import oneclick

SITE = "https://www.cordeelegni.example"


@pytest.mark.parametrize("origin, referer, expected", [
    (SITE, None, True),
    ("https://WWW.cordeelegni.example:443", None, True),  # the default port and case do not make another origin
    (None, f"{SITE}/recesso/", True),  # no Origin: the Referer's origin counts
    ("https://altrove.example", f"{SITE}/recesso/", False),  # Origin wins over a Referer
    ("http://www.cordeelegni.example", None, False),  # another scheme
    ("https://www.cordeelegni.example:8443", None, False),  # another port
    ("https://www.cordeelegni.example.altrove.example", None, False),
    ("null", None, False),  # a sandboxed frame or a file: page
    (None, None, False),  # says nothing: refused
    (None, "not a url", False),
])
def test_origin_check(origin, referer, expected):
    assert guard.same_origin((SITE,), origin, referer) is expected


@pytest.mark.parametrize("peer, forwarded, trusted, expected", [
    ("203.0.113.9", None, (), "203.0.113.9"),
    ("203.0.113.9", "198.51.100.1", (), "203.0.113.9"),  # an untrusted peer cannot name another address
    ("127.0.0.1", "198.51.100.1", ("127.0.0.1",), "198.51.100.1"),
    ("127.0.0.1", "6.6.6.6, 198.51.100.1", ("127.0.0.1",), "198.51.100.1"),  # what the client wrote is skipped
    ("127.0.0.1", "198.51.100.1, 10.0.0.2", ("127.0.0.1", "10.0.0.0/8"), "198.51.100.1"),
    ("127.0.0.1", "garbage", ("127.0.0.1",), "127.0.0.1"),
    ("::1", "2001:db8::5", ("::1",), "2001:db8::5"),
])
def test_client_ip(peer, forwarded, trusted, expected):
    assert guard.client_ip(peer, forwarded, trusted) == expected


def test_rate_limit_decision():
    assert not guard.over_limit(0, 3) and not guard.over_limit(2, 3)
    assert guard.over_limit(3, 3) and guard.over_limit(7, 3)


def fields(**values):
    return {name: value if isinstance(value, list) else [value] for name, value in values.items()}


def test_order_fields():
    form, problems = validate.order(fields(sku=["CL-A", "CL-B"], quantity=["1", "2"], name=" Anna ",
                                           email="Anna@Example.ORG", address="Via Roma 1", total="36.70"))
    assert not problems
    assert form.lines == (("CL-A", "1"), ("CL-B", "2")) and form.name == "Anna"
    assert form.email == "Anna@example.org" and form.seen_total == Decimal("36.70")


@pytest.mark.parametrize("values, field", [
    ({"sku": [], "quantity": []}, "sku"),
    ({"sku": ["CL-A", "CL-B"], "quantity": ["1"]}, "quantity"),
    ({"email": "anna"}, "email"),
    ({"name": ""}, "name"),
    ({"address": "x" * 1001}, "address"),
])
def test_order_problems_name_the_field(values, field):
    base = {"sku": ["CL-A"], "quantity": ["1"], "name": "Anna", "email": "anna@example.org", "address": "Via Roma 1"}
    _, problems = validate.order(fields(**{**base, **values}))
    assert field in problems.fields


def test_one_line_fields_stay_on_one_line():
    form, problems = validate.order(fields(sku="CL-A", quantity="1", name="Anna\r\nBcc: altri@example.org",
                                           email="a@example.org", address="Via Roma 1\r\nBologna"))
    assert not problems and form.name == "Anna Bcc: altri@example.org" and form.address == "Via Roma 1\nBologna"


def test_a_total_that_is_not_a_number_is_ignored_not_trusted():
    form, problems = validate.order(fields(sku="CL-A", quantity="1", name="A", email="a@example.org",
                                           address="x", total="NaN"))
    assert not problems and form.seen_total is None


def test_withdrawal_fields():
    form, problems = validate.withdrawal(fields(name="Anna", order="2026-00012", email="anna@example.org",
                                                order_date="2026-11-20"))
    assert not problems and form.order_date == "2026-11-20" and form.items == ""
    _, problems = validate.withdrawal(fields(name="Anna", order="", email="anna@example.org", order_date="20/11"))
    assert problems.fields == {"order", "order_date"}


def test_signup_needs_the_consent():
    assert validate.signup(fields(email="bea@example.org", consent="yes"))[1] == []
    assert validate.signup(fields(email="bea@example.org"))[1].fields == {"consent"}
    assert validate.signup(fields(email="bea@", consent="yes"))[1].fields == {"email"}


def test_unsubscribe_tokens_verify_only_their_address_and_secret():
    secret = "s" * 40
    token = oneclick.token("bea@example.org", secret)
    assert oneclick.verify("bea@EXAMPLE.org", token, secret)
    assert not oneclick.verify("eva@example.org", token, secret)
    assert not oneclick.verify("bea@example.org", token, "t" * 40)
    assert not oneclick.verify("bea@example.org", token[:-1], secret)


def settings(**values):
    return {"SITEURL": "", "SITE_DEV_URL": "http://127.0.0.1:8000", "SITENAME": "Corde & Legni",
            "SHOP_ORDER_EMAIL": "ordini@cordeelegni.example", **values}


def test_action_names_the_endpoint_or_the_service():
    config = FormsSettings.from_settings(settings(FORMS_ENDPOINT="http://127.0.0.1:8090", FORMS_SERVICES={
        "newsletter": "https://buttondown.com/api/emails/embed-subscribe/cordeelegni"}))
    assert config.action("order") == "http://127.0.0.1:8090/order"
    assert config.action("withdrawal") == "http://127.0.0.1:8090/withdrawal"
    assert config.action("unsubscribe") == "http://127.0.0.1:8090/unsubscribe"
    assert config.action("newsletter") == "https://buttondown.com/api/emails/embed-subscribe/cordeelegni"
    assert config.site_origin == "http://127.0.0.1:8000"
    assert config.origins == ("http://127.0.0.1:8090", "https://buttondown.com")
    with pytest.raises(KeyError):
        config.action("contact")
    assert config.email_field("newsletter") == "email" and config.email_field("order") == "email"


@pytest.mark.parametrize("service, field", [
    ("https://cordeelegni.us21.list-manage.com/subscribe/post?u=1&id=2", "EMAIL"),
    ("https://assets.mailerlite.com/jsonp/1/forms/2/subscribe", "fields[email]"),
    ("https://liste.cordeelegni.example/subscription/form", "email"),
])
def test_the_address_field_is_named_as_the_service_expects(service, field):
    config = FormsSettings.from_settings(settings(FORMS_SERVICES={"newsletter": service}))
    assert config.email_field("newsletter") == field


def test_production_origin_and_price_list_come_from_siteurl():
    config = FormsSettings.from_settings(settings(SITEURL=SITE, FORMS_ENDPOINT=f"{SITE}/moduli"))
    assert config.site_origin == SITE and config.cart_json == f"{SITE}/cart.json"
    assert config.shop_email == "ordini@cordeelegni.example"


@pytest.mark.parametrize("values, words", [
    ({"FORMS_ENDPOINT": "/moduli"}, "FORMS_ENDPOINT must be an absolute"),
    ({"SITEURL": SITE, "FORMS_ENDPOINT": "http://moduli.cordeelegni.example"}, "must be an https URL"),
    ({"FORMS_SERVICES": {"contatti": "https://example.com/x"}}, "FORMS_SERVICES: no form 'contatti'"),
    ({"FORMS_SERVICES": {"newsletter": "http://example.com/x"}}, "must be an https URL"),
    ({"FORMS_SITE_ORIGIN": "https://www.cordeelegni.example/negozio"}, "FORMS_SITE_ORIGIN must be"),
    ({"FORMS_RATE_LIMIT": 0}, "FORMS_RATE_LIMIT must be a whole number"),
    ({"FORMS_TRUSTED_PROXIES": "127.0.0.1"}, "FORMS_TRUSTED_PROXIES must be a list"),
])
def test_bad_settings_are_one_clear_line(values, words):
    with pytest.raises(FormsConfigurationError) as failure:
        FormsSettings.from_settings(settings(**values))
    assert words in str(failure.value) and "\n" not in str(failure.value)


def test_origin_of():
    assert origin_of("HTTPS://Shop.Example:443/a?b") == "https://shop.example"
    assert origin_of("http://127.0.0.1:8090/x") == "http://127.0.0.1:8090"
    assert origin_of("mailto:a@b.example") == ""


def test_form_action_allows_the_endpoint_and_the_services():
    config = FormsSettings.from_settings(settings(FORMS_ENDPOINT="http://127.0.0.1:8090", FORMS_SERVICES={
        "newsletter": "https://buttondown.com/api/emails/embed-subscribe/cordeelegni"}))
    needs = security.forms_needs({"FORMS_CONFIG": config})
    assert needs.sources["form-action"] == ("http://127.0.0.1:8090", "https://buttondown.com")
    assert security.forms_needs({"FORMS_CONFIG": SimpleNamespace(endpoint="")}).sources == {}


# --- the build's side ------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    from conftest import ROOT, run_build

    base = tmp_path_factory.mktemp("forms-demo")
    return run_build(ROOT / "content", base / "out", FORMS_ENDPOINT="http://127.0.0.1:8765", SITE_WORKERS=1)


def soup_of(path):
    from bs4 import BeautifulSoup

    return BeautifulSoup(path.read_text(encoding="utf-8"), "html.parser")


@pytest.mark.parametrize("page, lang, text, target", [
    ("index.html", "it", "Recedi dal contratto qui", "/recesso/"),
    ("prodotti/index.html", "it", "Recedi dal contratto qui", "/recesso/"),
    ("en/withdrawal/index.html", "en", "Withdraw from the contract here", "/en/withdrawal/"),
])
def test_every_footer_links_the_withdrawal_page(demo, page, lang, text, target):
    soup = soup_of(demo / page)
    links = [a for a in soup.select("footer a") if a.get_text(strip=True) == text]
    assert len(links) == 1 and links[0]["href"] == target
    assert not any(a["href"].startswith("mailto:") for a in links)


@pytest.mark.parametrize("page, lang", [("recesso/index.html", "it"), ("en/withdrawal/index.html", "en")])
def test_withdrawal_page_posts_its_form_to_the_endpoint(demo, page, lang):
    soup = soup_of(demo / page)
    form = soup.select_one("form.withdrawal-form")
    assert form["method"] == "post" and form["action"] == "http://127.0.0.1:8765/withdrawal"
    assert form.find("legend") is not None
    for name in ("name", "order", "email"):
        field = form.find(attrs={"name": name})
        assert field.has_attr("required") and soup.find("label", attrs={"for": field["id"]}) is not None
    for name in ("items", "order_date"):
        assert not form.find(attrs={"name": name}).has_attr("required")
    assert form.find("input", attrs={"name": "lang"})["value"] == lang


def test_sign_up_form_in_the_footer_and_once_on_the_newsletter_page(demo):
    footer_form = soup_of(demo / "index.html").select_one("footer form.signup-form")
    assert footer_form["action"] == "http://127.0.0.1:8765/newsletter"
    email = footer_form.find("input", attrs={"type": "email"})
    consent = footer_form.find("input", attrs={"type": "checkbox"})
    assert email.has_attr("required") and consent.has_attr("required") and consent["name"] == "consent"
    assert footer_form.find("a", href="/privacy/") is not None
    newsletter = soup_of(demo / "newsletter" / "index.html")
    forms = newsletter.select("form.signup-form")
    assert len(forms) == 1 and forms[0].find_parent("main") is not None
    assert len({tag["id"] for tag in newsletter.find_all(id=True)}) == len(newsletter.find_all(id=True))


def test_security_policy_lets_the_forms_post_to_the_endpoint(demo):
    headers = (demo / "_headers").read_text(encoding="utf-8")
    policy = next(line for line in headers.splitlines() if "Content-Security-Policy" in line)
    form_action = next(part for part in policy.split(";") if "form-action" in part).split()
    assert "http://127.0.0.1:8765" in form_action and "'self'" in form_action


def test_newsletter_send_refuses_when_a_service_is_the_list_of_record(monkeypatch):
    import tasks
    from invoke import Context
    from invoke.exceptions import Exit

    from core import build

    service = "https://buttondown.com/api/emails/embed-subscribe/cordeelegni"
    real = build.load_settings
    monkeypatch.setattr(build, "load_settings", lambda path: {**real(path), "FORMS_SERVICES": {"newsletter": service}})
    monkeypatch.setattr(build, "build_site", lambda *args, **kwargs: pytest.fail("no build before the refusal"))
    with pytest.raises(Exit) as failure:
        tasks.newsletter(Context(), send=True)
    assert service in failure.value.message and "--send is not used" in failure.value.message
    assert "\n" not in failure.value.message


# --- the outbox ------------------------------------------------------------------------------------------------
def owed(store, count=1):
    from forms.mailer import message

    with store.transaction() as db:
        for number in range(count):
            store.queue(db, f"withdrawal:{number}", "customer", f"cliente{number}@example.org",
                        message("Corde & Legni <moduli@cordeelegni.example>", f"cliente{number}@example.org",
                                "Ricevuta", "Il testo della ricevuta."))
            store.queue(db, f"withdrawal:{number}", "customer", f"cliente{number}@example.org", b"again")


def test_a_message_owed_twice_is_queued_once_and_written_once(tmp_path):
    from email import message_from_bytes, policy

    from forms import mailer
    from forms.store import Store

    store = Store(tmp_path / "moduli.db")
    owed(store)
    assert len(store.due()) == 1
    assert mailer.flush(store, mailer.FolderPost(tmp_path / "posta"), 60) == {"sent": 1}
    assert mailer.flush(store, mailer.FolderPost(tmp_path / "posta"), 60) == {}
    written, = (tmp_path / "posta").iterdir()
    parsed = message_from_bytes(written.read_bytes(), policy=policy.default)
    assert parsed["To"] == "cliente0@example.org" and parsed.get_content().strip() == "Il testo della ricevuta."


class Refusing:
    def __init__(self, outcome):
        self.outcome, self.calls = outcome, 0

    def deliver(self, row):
        from newsletter.mail import Delivery

        self.calls += 1
        return Delivery(self.outcome, "451 4.3.0 later" if self.outcome.value == "refused" else "gone")

    def close(self):
        pass


def test_a_refused_message_waits_longer_each_time_and_a_bounced_one_is_not_retried(tmp_path):
    from forms import mailer
    from forms.store import Store
    from newsletter.mail import Outcome

    store = Store(tmp_path / "moduli.db")
    owed(store, 2)
    post = Refusing(Outcome.REFUSED)
    assert mailer.flush(store, post, 60) == {"refused": 2}
    assert store.due() == []  # not due again before a minute
    rows = store.read("SELECT status, attempts, next_try, last_reply FROM outbox")
    assert {row["status"] for row in rows} == {"pending"} and {row["attempts"] for row in rows} == {1}
    with store.transaction() as db:
        db.execute("UPDATE outbox SET next_try = '2000-01-01T00:00:00+00:00'")
    assert mailer.flush(store, Refusing(Outcome.BOUNCED), 60) == {"bounced": 2}
    assert {row["status"] for row in store.read("SELECT status FROM outbox")} == {"failed"}
    assert store.due() == []


def test_a_message_left_sending_by_a_killed_endpoint_is_in_doubt_not_sent_again(tmp_path):
    from forms.store import Store

    store = Store(tmp_path / "moduli.db")
    owed(store)
    row, = store.due()
    assert store.claim(row["id"]) and not store.claim(row["id"])  # one worker only
    restarted = Store(tmp_path / "moduli.db")
    assert restarted.recover() == 1
    assert restarted.due() == [] and restarted.read("SELECT status FROM outbox")[0]["status"] == "in_doubt"
