"""Signal wiring of the comments plugin."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import NamedTuple

from pelican import signals

from core import commentable as registry
from core.rendering import apply_defaults

from . import isso, reconcile, store
from .settings import ACCEPT_LOSS_ENV, DEFAULTS, RECORD_URL_ENV, CommentsSettings

logger = logging.getLogger(__name__)
RECORD_KEY = "comments_record"  # the record this build published, on the build's shared context


class _Notice(logging.Logger):
    """A plain logger: Isso being down is worth a warning, never a failed build (even with --fatal warnings)."""


notice = _Notice(__name__ + ".offline")
notice.parent = logging.getLogger()


def configure(pelican):
    apply_defaults(pelican.settings, DEFAULTS)
    pelican.settings["COMMENTS_CONFIG"] = CommentsSettings.from_settings(pelican.settings)


def commentable(item, config) -> bool:
    if getattr(item, "status", "published") != "published":
        return False
    flag = str(item.metadata.get("comments", "yes")).strip().lower()
    return flag not in ("no", "false", "off", "0")


def items_of(generators, config):
    """Pelican's posts and their translations, then what other plugins registered (the shop's products)."""
    for generator in generators:
        for key in ("articles", "translations"):
            yield from getattr(generator, key, []) if hasattr(generator, key) else []
    for kind, items in registry.registered(generators[0].context).items():
        if kind != "product" or config.on_products:
            yield from items


def fetch_comments(generators):
    """Give every commentable post and product its approved comments: Isso's, checked against the record."""
    settings = generators[0].settings
    config = settings["COMMENTS_CONFIG"]
    items = []
    for item in items_of(generators, config):
        item.comments_enabled = config.provider != "none" and commentable(item, config)
        item.comments = []
        item.comments_known = True  # False: nothing known to show (Isso down or unchecked, and no record)
        item.isso_id = "/" + item.url
        if item.comments_enabled:
            items.append(item)
    if config.provider != "isso" or not config.isso_build_url or not items:
        return
    with store.locked(config.record_path):
        pages = publish_comments(config, [item.isso_id for item in items], generators[0].context)
    for item in items:
        item.comments = (pages or {}).get(item.isso_id, [])
        item.comments_known = pages is not None


class Loaded(NamedTuple):
    """The record a build starts from: its threads and where they came from, or None and why there is none."""

    threads: dict | None
    origin: str  # the local file or the URL of the published copy; else why there is no record
    unknown: bool = False  # no threads, and a published copy may exist but could not be read


def publish_comments(config, uris: list[str], context: dict) -> dict | None:
    """{uri: [Comment]} for the pages (None: nobody knows them); the record is saved and left on the context."""
    known = load_record(config)
    try:
        fetched = isso.fetch_all(config.isso_build_url, uris, config.isso_timeout)  # counts, then threads with comments
    except isso.IssoUnreachable as error:
        report_unreachable(error, known, uris)
        if known.threads is None:
            if known.unknown:
                refuse_to_publish(config, known, "Isso is unreachable")
            return None
        return keep_record(config, {uri: known.threads.get(uri, []) for uri in uris}, context)
    if known.unknown:
        return publish_unchecked(config, known, fetched, context)
    outcome = reconcile.reconcile(known.threads, fetched, config.max_loss, config.min_loss, config.accept_loss)
    if outcome.verdict == reconcile.FIRST:
        logger.info("Comments: %s, so a new record starts with Isso's %s comments", known.origin, outcome.fetched)
    if outcome.left_out:
        logger.info("Comments: %s comments of pages this build does not publish (drafts, removed, comments off) "
                    "left the record and its published copy", outcome.left_out)
    report_outcome(outcome, config)
    return keep_record(config, outcome.record, context)


def keep_record(config, threads: dict, context: dict) -> dict:
    """Save the record of this build's pages and leave it on the context for the published copy."""
    store.save(config.record_path, threads, config.instance)
    context[RECORD_KEY] = threads
    return threads


def publish_unchecked(config, known: Loaded, fetched: dict, context: dict) -> dict | None:
    """The published record could not be read: Isso's answer is shown, but an empty one replaces nothing."""
    total = reconcile.count(fetched)
    if total == 0:
        refuse_to_publish(config, known, "Isso returned no comments at all")
        return None
    notice.warning("Comments: %s, so Isso's answer (%s comments) could not be checked for lost comments: the pages "
                   "show Isso's comments and the record starts again from them. If the published record held "
                   "comments Isso no longer has, restore it to %s and build again",
                   known.origin, total, config.record_path)
    return keep_record(config, fetched, context)


def refuse_to_publish(config, known: Loaded, what: str) -> None:
    """Nothing is known to publish: a release without the record would read as 'none was ever published'.

    Logged as a real warning, so the build fails and `publish` uploads nothing: the live copy stays.
    """
    if not config.record_publish:
        return  # releases carry no copy: there is nothing to drop, and the notices above say what happened
    logger.warning("Comments: %s, and %s: this build has no record of published comments, and a release without "
                   "/%s would make the next fresh build start as if none was ever published. Build again when the "
                   "published copy can be read (or restore %s, or point $%s at a copy of it)",
                   what, known.origin, config.record_publish, config.record_path, RECORD_URL_ENV)


def load_record(config) -> Loaded:
    """This Isso's local record, else the copy the site published; a corrupt local record is moved aside and named."""
    path = config.record_path
    try:
        threads = store.read(path, config.instance)
    except store.RecordUnusable as error:
        aside = store.move_aside(path)
        notice.warning("Comment record %s is unusable (%s): moved aside to %s; this build goes on from the "
                       "published copy if the site has one, else from Isso", path, error, aside)
        why = f"{path} was unusable and was moved aside to {aside}"
    else:
        if threads is not None:
            return Loaded(threads, str(path))
        why = f"{path} does not exist"
        note_earlier_records(config)
    if not config.record_url:
        return Loaded(None, why)
    try:
        published = store.download(config.record_url, config.isso_timeout)
    except store.PublishedUnavailable as error:
        notice.warning("Comments: the published record %s could not be read (%s); %s", config.record_url, error, why)
        return Loaded(None, f"{why} and the published copy {config.record_url} could not be read ({error})", True)
    if published is None:
        return Loaded(None, f"{why} and the site publishes none at {config.record_url}")
    # Compared whichever Isso wrote it: it is what the site shows, and after a move to a new address the
    # loss rule must still see an empty new database.
    other = f", written by another Isso (instance {published.instance})" if (
        published.instance and published.instance != config.instance) else ""
    logger.info("Comments: %s, so the record was downloaded from %s (%s comments%s)", why, config.record_url,
                reconcile.count(published.threads), other)
    return Loaded(published.threads, config.record_url)


def note_earlier_records(config) -> None:
    """Earlier versions kept one record for every Isso: it cannot say whose comments it holds, so it is not used."""
    for earlier in config.earlier_records:
        if earlier != config.record_path and earlier.exists():
            logger.info("Comments: %s was written by an earlier version for every Isso alike, so it is not "
                        "compared with this one (records are now kept per Isso, in %s); delete it once checked",
                        earlier, config.record_path)


def report_unreachable(error, known: Loaded, uris: list[str]) -> None:
    if known.threads is None:
        notice.warning("Isso is unreachable (%s) and there is no record of published comments (%s): the pages are "
                       "built without comments in their HTML; visitors' browsers still show them live once Isso "
                       "answers. Start Isso (or set COMMENTS_ISSO_BUILD_URL) and build again to put them back",
                       error, known.origin)
        return
    kept = reconcile.count({uri: known.threads.get(uri, []) for uri in uris})
    where = "published at " if known.origin.startswith(("http://", "https://")) else ""
    notice.warning("Isso is unreachable (%s): the pages keep the %s comments of the record %s%s",
                   error, kept, where, known.origin)


def report_outcome(outcome, config) -> None:
    counts = f"before {outcome.before}, fetched {outcome.fetched}, kept {outcome.kept}"
    if outcome.verdict == reconcile.KEPT:
        notice.warning(
            "Comments: apparent mass loss, %s: Isso at %s no longer returns %s of the %s published comments "
            "(limits COMMENTS_MAX_LOSS = %s and COMMENTS_MIN_LOSS = %s), so the pages and the record %s keep them "
            "all, with the %s new comments Isso returned. Check that Isso's [general] dbpath points to the right "
            "database and, after a server move, that the database came along. If the loss is real and wanted, "
            "build once with %s=1 (or COMMENTS_ACCEPT_LOSS = True)",
            counts, config.isso_build_url, outcome.missing, outcome.before, config.max_loss, config.min_loss,
            config.record_path, outcome.added, ACCEPT_LOSS_ENV)
        return
    if not outcome.removed:
        return
    log = store.log_deletions(config.record_path, outcome.removed,
                              "mass loss accepted" if outcome.verdict == reconcile.ACCEPTED else "not returned by Isso")
    accepted = outcome.verdict == reconcile.ACCEPTED
    if accepted:
        notice.warning("Comments: mass loss accepted with %s/COMMENTS_ACCEPT_LOSS, %s: %s published comments "
                       "removed from the pages and the record, listed in %s", ACCEPT_LOSS_ENV, counts,
                       len(outcome.removed), log)
    elif outcome.fetched == 0:
        notice.warning("Comments: Isso at %s returned no comments at all, and the record's %s are fewer than "
                       "COMMENTS_MIN_LOSS = %s: taken as moderation, they are removed. If Isso lost its database "
                       "instead, put it back and build again: its comments return to the pages",
                       config.isso_build_url, outcome.before, config.min_loss)
    # One line per removal in the build log; after an accepted mass loss the summary above says it once.
    report = logger.info if accepted else notice.warning
    for removed in outcome.removed:
        report("Comments: comment %s on %s is no longer in Isso (deleted or unapproved): removed from the "
               "page and the record, logged in %s", removed.id, removed.uri, log)


class RecordPublisher:
    """A generator that writes this build's record into the output: the copy a fresh checkout downloads."""

    def __init__(self, context, settings, path, theme, output_path, **kwargs):
        self.context, self.settings, self.output_path = context, settings, output_path

    def generate_output(self, writer):
        threads = self.context.get(RECORD_KEY)
        name = self.settings["COMMENTS_CONFIG"].record_publish
        if threads is not None and name:
            store.save(Path(self.output_path) / name, threads, self.settings["COMMENTS_CONFIG"].instance)


def get_generators(pelican):
    return RecordPublisher


def register():
    signals.initialized.connect(configure)
    signals.all_generators_finalized.connect(fetch_comments)
    signals.get_generators.connect(get_generators)
