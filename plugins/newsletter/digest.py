"""One run of `invoke newsletter`: preview the next issue, or send it as a campaign exactly once per recipient.

A send works on one campaign at a time (campaign.py): the unfinished one if there is one, else a new
issue made of the feed items not sent before, frozen and recorded in the state file before the first
message. Each message's fate is journalled (journal.py) before and after it is handed to the server, so
an interrupted run is resumed without sending anyone the issue twice.
"""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

from core.settings import site_settings

from . import campaign as campaigns
from . import lock, mail, plan, recipients, state, suppression
from .issue import compose, next_number, nothing_new
from .result import NewsletterError, Result
from .send import send_campaign
from .settings import NewsletterConfigurationError, NewsletterSettings, SmtpSettings, recipients_file


def run(root: Path, settings: dict, output: Path, *, send: bool = False, dry_run: bool = False,
        resend_in_doubt: bool = False, environ=os.environ, today: dt.date | None = None,
        progress=None, progress_every: int = 10) -> Result:
    """Preview (default), describe (dry_run) or send (send) the next issue; see the module's docstring.

    resend_in_doubt sends the latest campaign's in-doubt messages again (and its pending and failed ones)
    and never starts a new campaign. progress, a callable, gets a line every `progress_every` messages.
    """
    config = NewsletterSettings.from_settings(settings, root)
    today = today or dt.date.today()
    if not send and not dry_run and not resend_in_doubt:
        return preview(config, settings, output, today)
    listed, problems = read_recipients(recipients_file(environ, root))
    unsubscribed = suppression.load(config.suppression_file)
    problems += unsubscribed.invalid
    if dry_run:
        if not lock.is_free(config.lock_file):
            raise NewsletterError(f"{config.lock_file} is held: a send is running now; try the dry run after it")
        return describe(config, settings, output, today, listed, unsubscribed.keys, problems, resend_in_doubt)
    smtp = SmtpSettings.from_environment(environ)
    try:
        with lock.held(config.lock_file):
            return send_campaign(config, settings, output, today, smtp, listed, unsubscribed.keys, problems,
                                 resend_in_doubt, progress, progress_every)
    except lock.LockBusy as error:
        raise NewsletterError(str(error)) from None


def preview(config, settings, output, today) -> Result:
    """The issue a send would send: the unfinished campaign's frozen one, else the next from the feed."""
    sender = site_settings(settings).business.email or "newsletter@localhost"
    current = campaigns.latest(config.campaign_dir)
    if current and not current.completed:
        paths = write_preview(config, current.number, current.subject, current.html, current.text, sender)
        return Result(current.number, current.subject, list(current.items), preview=paths, campaign=current.name,
                      message=f"Campaign {current.name} is unfinished: its frozen issue is previewed in "
                              f"{config.preview_dir}; nothing sent. --send resumes it.")
    recorded = state.load(config.state_file)
    issue = compose(config, settings, output, recorded, next_number(config, recorded), today)
    if issue is None:
        return Result(None, message=nothing_new(recorded))
    paths = write_preview(config, issue.number, issue.subject, issue.html, issue.text, sender)
    return Result(issue.number, issue.subject, issue.items, preview=paths,
                  message=f"Issue {issue.number} ({len(issue.items)} items) previewed in {config.preview_dir}; "
                          "nothing sent. Send it with --send.")


def write_preview(config, number: int, subject: str, html: str, text: str, sender: str) -> list[Path]:
    folder = config.preview_dir
    folder.mkdir(parents=True, exist_ok=True)
    base = folder / f"numero-{number}"
    message = mail.message(subject, sender, "anteprima@localhost", html, text, config.unsubscribe_email,
                           config.unsubscribe_url, one_click=config.unsubscribe_post)
    paths = [base.with_suffix(".html"), base.with_suffix(".txt"), base.with_suffix(".eml")]
    paths[0].write_text(html, encoding="utf-8")
    paths[1].write_text(text, encoding="utf-8")
    paths[2].write_bytes(bytes(message))
    return paths


def read_recipients(path: Path) -> tuple[list[recipients.Recipient], list]:
    if not path.is_file():
        raise NewsletterConfigurationError(f"no recipients file at {path} "
                                           "(one address a line; set VETRINA_NEWSLETTER_RECIPIENTS)")
    parsed = recipients.parse(path.read_text(encoding="utf-8"), str(path))
    if not parsed.recipients:
        raise NewsletterConfigurationError(f"{path} lists no valid recipient")
    return parsed.recipients, [*parsed.invalid, *parsed.duplicates]


# --- dry run --------------------------------------------------------------------------------------------
def describe(config, settings, output, today, listed, unsubscribed, problems, resend_in_doubt) -> Result:
    """What --send would do now, reading only: no journal, no state, no campaign folder is written."""
    current = campaigns.latest(config.campaign_dir)
    # No run holds the lock, so a message still in flight belongs to a run that died: in doubt.
    entries = current.journal().as_recovered() if current else {}
    if current and (resend_in_doubt or not current.completed):
        planned = plan.make(listed, unsubscribed, entries, completed=bool(current.completed),
                            resend_in_doubt=resend_in_doubt)
        if resend_in_doubt or planned.unfinished:
            what = f"resume campaign {current.name} (issue {current.number}, frozen {current.created})"
            return dry_result(current.number, current.subject, list(current.items), current.name, what,
                              planned, problems)
    if resend_in_doubt:
        raise NewsletterError("--resend-in-doubt: there is no campaign yet")
    recorded = state.load(config.state_file)
    issue = compose(config, settings, output, recorded, next_number(config, recorded), today)
    if issue is None:
        note = current.in_doubt_note() if current else ""
        return Result(None, message=f"Dry run: {nothing_new(recorded)}{note}")
    planned = plan.make(listed, unsubscribed, {})
    name = f"{campaigns.PREFIX}{issue.number}"
    return dry_result(issue.number, issue.subject, issue.items, name,
                      f"start campaign {name} with {len(issue.items)} new items", planned, problems)


def dry_result(number, subject, items, name, what, planned, problems) -> Result:
    in_doubt = [entry.address for entry in planned.in_doubt]
    resent = f", resend {len(planned.resend)} in doubt" if planned.resend else ""
    message = (f"Dry run, nothing sent: --send would {what}: send to {len(planned.to_send)} recipients"
               f"{resent}, skip {len(planned.already_sent)} as sent, {len(planned.suppressed)} suppressed, "
               f"{len(planned.in_doubt)} in doubt{' (' + ', '.join(in_doubt) + ')' if in_doubt else ''}.")
    return Result(number, subject, items, message=message, campaign=name, skipped=len(planned.already_sent),
                  suppressed=len(planned.suppressed), problems=problems,
                  in_doubt=[(entry.address, entry.message_id) for entry in planned.in_doubt])
