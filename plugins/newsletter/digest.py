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
from .plan import Audience
from .result import NewsletterError, Result
from .send import Outbox, resend_targets, send_campaign
from .settings import (NewsletterConfigurationError, NewsletterSettings, SmtpSettings, recipients_file,
                       unsubscribe_secret)

PREVIEW_RECIPIENT = "anteprima@example.invalid"


def run(root: Path, settings: dict, output: Path, *, send: bool = False, dry_run: bool = False,
        resend_in_doubt: bool | int | str = False, environ=os.environ, today: dt.date | None = None,
        progress=None, progress_every: int = 10) -> Result:
    """Preview (default), describe (dry_run) or send (send) the next issue; see the module's docstring.

    resend_in_doubt sends the in-doubt messages again, of every campaign that has some (True) or of campaign
    number N (N, or "N" as the command line gives it), and the latest campaign's waiting ones while it is
    unfinished; it never starts a new campaign. progress, a callable, gets a line every `progress_every`
    messages.
    """
    config = NewsletterSettings.from_settings(settings, root)
    secret = unsubscribe_secret(config, environ)
    today = today or dt.date.today()
    which = resend_choice(resend_in_doubt)
    if not send and not dry_run and not which:
        return preview(config, settings, output, today, secret)
    listed, problems = read_recipients(recipients_file(environ, root))
    unsubscribed = suppression.load(config.suppression_file)
    audience = Audience(listed, unsubscribed.keys, problems + unsubscribed.invalid)
    if dry_run:
        if not lock.is_free(config.lock_file):
            raise NewsletterError(f"{config.lock_file} is held: a send is running now; try the dry run after it")
        return describe(config, settings, output, today, audience, which)
    outbox = Outbox(SmtpSettings.from_environment(environ), secret, progress, progress_every)
    try:
        with lock.held(config.lock_file):
            return send_campaign(config, settings, output, today, outbox, audience, which)
    except lock.LockBusy as error:
        raise NewsletterError(str(error)) from None


def resend_choice(value: bool | int | str) -> bool | int:
    """False, True (every campaign) or a campaign number, from what the caller or the command line gave."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int) or (isinstance(value, str) and value.strip().isdigit()):
        number = int(value)
        if number >= 1:
            return number
    raise NewsletterError(f"--resend-in-doubt takes a campaign number (the N of numero-N, see --status), "
                          f"not {value!r}; without one it resends every campaign's messages in doubt")


def preview(config, settings, output, today, secret) -> Result:
    """The issue a send would send: the unfinished campaign's frozen one, else the next from the feed."""
    sender = site_settings(settings).business.email or "newsletter@localhost"
    current = campaigns.latest(config.campaign_dir)
    if current and not current.completed:
        paths = write_preview(config, current.number, current.subject, current.html, current.text, sender, secret)
        return Result(current.number, current.subject, list(current.items), preview=paths, campaign=current.name,
                      message=f"Campaign {current.name} is unfinished: its frozen issue is previewed in "
                              f"{config.preview_dir}; nothing sent. --send resumes it.")
    recorded = state.load(config.state_file)
    issue = compose(config, settings, output, recorded, next_number(config, recorded), today)
    if issue is None:
        return Result(None, message=nothing_new(recorded))
    paths = write_preview(config, issue.number, issue.subject, issue.html, issue.text, sender, secret)
    return Result(issue.number, issue.subject, issue.items, preview=paths,
                  message=f"Issue {issue.number} ({len(issue.items)} items) previewed in {config.preview_dir}; "
                          "nothing sent. Send it with --send.")


def write_preview(config, number: int, subject: str, html: str, text: str, sender: str, secret: str) -> list[Path]:
    folder = config.preview_dir
    folder.mkdir(parents=True, exist_ok=True)
    base = folder / f"numero-{number}"
    message = mail.message(subject, sender, PREVIEW_RECIPIENT, html, text, config.unsubscribe_email,
                           config.unsubscribe_target(PREVIEW_RECIPIENT, secret), one_click=config.unsubscribe_post)
    paths = [base.with_suffix(".html"), base.with_suffix(".txt"), base.with_suffix(".eml")]
    paths[0].write_text(html, encoding="utf-8")
    paths[1].write_text(text, encoding="utf-8")
    paths[2].write_bytes(bytes(message))
    return paths


def read_recipients(path: Path) -> tuple[list[recipients.Recipient], list]:
    if not path.is_file():
        raise NewsletterConfigurationError(f"no recipients file at {path} "
                                           "(one address a line; set VETRINA_NEWSLETTER_RECIPIENTS)")
    parsed = recipients.parse(path.read_text(encoding="utf-8"), recipients.shown(path))
    if not parsed.recipients:
        raise NewsletterConfigurationError(f"{path} lists no valid recipient")
    return parsed.recipients, [*parsed.invalid, *parsed.duplicates]


# --- dry run --------------------------------------------------------------------------------------------
def recovered(campaign: campaigns.Campaign):
    """The campaign's journal as a send's recovery would leave it, in memory only: no run holds the lock, so a
    message still in flight belongs to a run that died, and is in doubt."""
    journal = campaign.journal()
    journal.entries = journal.as_recovered()
    return journal


def describe(config, settings, output, today, audience: Audience, which) -> Result:
    """What --send (or --resend-in-doubt) would do now, reading only: no journal, no state, no campaign folder
    is written."""
    opened = {campaign.number: (campaign, recovered(campaign))
              for campaign in campaigns.unsettled(config.campaign_dir)}
    current = campaigns.latest(config.campaign_dir)
    if which:
        return describe_resend(config, opened, current, which, audience)

    def warnings(sending: int = 0) -> list[str]:
        return [campaign.doubt_warning(doubtful) for number, (campaign, journal) in sorted(opened.items())
                if number != sending and (doubtful := plan.doubtful(journal.entries, audience))]

    if current and not current.completed:
        planned = plan.make(audience.listed, audience.unsubscribed, opened[current.number][1].entries)
        if planned.unfinished:
            what = f"resume campaign {current.name} (issue {current.number}, frozen {current.created})"
            return dry_result(current.number, current.subject, list(current.items), current.name, what,
                              planned, audience.problems, warnings(current.number))
    recorded = state.load(config.state_file)
    issue = compose(config, settings, output, recorded, next_number(config, recorded), today)
    if issue is None:
        return Result(None, message=f"Dry run: {nothing_new(recorded)}", warnings=warnings())
    planned = plan.make(audience.listed, audience.unsubscribed, {})
    name = f"{campaigns.PREFIX}{issue.number}"
    return dry_result(issue.number, issue.subject, issue.items, name,
                      f"start campaign {name} with {len(issue.items)} new items", planned, audience.problems,
                      warnings())


def describe_resend(config, opened, current, which, audience: Audience) -> Result:
    targets = resend_targets(config.campaign_dir, opened, current, which, audience)
    if not targets:
        return Result(None, message="Dry run: no campaign has a message in doubt or a recipient waiting: "
                                    "--resend-in-doubt would send nothing.")
    parts, in_doubt = [], []
    for campaign, journal in targets:
        planned = plan.make(audience.listed, audience.unsubscribed, journal.entries,
                            completed=bool(campaign.completed), resend_in_doubt=True)
        addresses = f" ({', '.join(r.address for r in planned.resend)})" if planned.resend else ""
        parts.append(f"{campaign.name}: resend {len(planned.resend)} in doubt{addresses}, send "
                     f"{len(planned.to_send)} waiting")
        in_doubt += [(journal.entries[r.key].address, journal.entries[r.key].message_id) for r in planned.resend]
    return Result(None, message=f"Dry run, nothing sent: --resend-in-doubt would, in {'; in '.join(parts)}.",
                  problems=audience.problems, in_doubt=in_doubt)


def dry_result(number, subject, items, name, what, planned, problems, warnings) -> Result:
    in_doubt = [entry.address for entry in planned.in_doubt]
    message = (f"Dry run, nothing sent: --send would {what}: send to {len(planned.to_send)} recipients, "
               f"skip {len(planned.already_sent)} as sent, {len(planned.bounced)} bounced, "
               f"{len(planned.suppressed)} suppressed, "
               f"{len(planned.in_doubt)} in doubt{' (' + ', '.join(in_doubt) + ')' if in_doubt else ''}.")
    return Result(number, subject, items, message=message, campaign=name, skipped=len(planned.already_sent),
                  suppressed=len(planned.suppressed), problems=problems, warnings=warnings,
                  in_doubt=[(entry.address, entry.message_id) for entry in planned.in_doubt])
