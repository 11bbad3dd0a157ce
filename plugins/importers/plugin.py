"""Signal wiring of the importers plugin: the build writes the old site's redirects (redirects/*.txt)."""

from __future__ import annotations

import logging
from pathlib import Path

from pelican import signals

from core.urls import join

from . import redirects

logger = logging.getLogger(__name__)
ENV_KEY = "IMPORTERS_TEMPLATES"
DEFAULTS = {"REDIRECTS_PATH": "redirects"}


class _Notice(logging.Logger):
    """A plain logger: the host's limits are worth saying, never a failed build."""


notice = _Notice(__name__ + ".notice")
notice.parent = logging.getLogger()


def remember_templates(generators):
    """The theme's Jinja environment, for the redirect pages written once every page is."""
    for generator in generators:
        if getattr(generator, "env", None) is not None:
            generator.settings[ENV_KEY] = generator.env
            return


def project_root(settings: dict) -> Path:
    return Path(settings["PATH"]).resolve().parent


def rules_folder(settings: dict) -> Path:
    folder = Path(settings.get("REDIRECTS_PATH", DEFAULTS["REDIRECTS_PATH"]))
    return folder if folder.is_absolute() else project_root(settings) / folder


def write_redirects(pelican):
    settings = pelican.settings
    root = project_root(settings)
    rules, errors = redirects.read_folder(rules_folder(settings), root)
    for error in errors:
        logger.error("%s", error)
    if not rules:
        return
    output = Path(pelican.output_path)
    site_url = settings.get("SITEURL", "")
    usable = [rule for rule in rules if _checked(rule, output, site_url)]
    existing = (output / "_redirects").read_text(encoding="utf-8") if (output / "_redirects").is_file() else ""
    (output / "_redirects").write_text(redirects.redirects_file(usable, existing), encoding="utf-8")
    template = settings[ENV_KEY].get_template("redirect.html")
    logo = join(site_url, settings.get("SITE_LOGO", "").removeprefix("theme/"))
    pages = 0
    for rule in usable:
        if rule.query:
            continue
        target = output / redirects.output_file(rule.path)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(template.render(**settings, target_url=join(site_url, rule.new), logo_url=logo),
                          encoding="utf-8")
        pages += 1
    for line in redirects.cloudflare_notices(usable):
        notice.warning("%s", line)
    logger.info("Redirects: %d rules in _redirects, %d redirect pages", len(usable), pages)


def _checked(rule: redirects.Rule, output: Path, site_url: str) -> bool:
    """A rule that leads to a page the build wrote and does not hide one; else a problem naming its line."""
    new = rule.new.removeprefix(site_url.rstrip("/")) if site_url and rule.new.startswith(site_url) else rule.new
    if new.startswith("/") and not (output / redirects.output_file(new.split("?", 1)[0])).is_file():
        logger.error("%s: redirect from %s to %s: the build wrote no page there; correct the new address or remove "
                     "the line", rule.where(), rule.old, rule.new)
        return False
    if not rule.query and (output / redirects.output_file(rule.path)).exists():
        logger.error("%s: redirect from %s: a page of the new site has that address; remove the line (the page "
                     "would be hidden by the redirect)", rule.where(), rule.old)
        return False
    return True


def register():
    signals.all_generators_finalized.connect(remember_templates)
    signals.finalized.connect(write_redirects)
