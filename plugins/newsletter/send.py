"""Send under the lock: recover what the last run left, pick or freeze the campaign (or, for --resend-in-doubt,
the campaigns with messages in doubt), deliver, record."""

from __future__ import annotations

import smtplib
from dataclasses import dataclass, field
from email.utils import formatdate
from typing import Callable

from . import campaign as campaigns
from . import mail, plan, state
from .issue import compose, next_number, nothing_new
from .journal import Journal, State
from .plan import Audience
from .result import NewsletterError, Result
from .settings import SmtpSettings

LOST_AGAIN = "the SMTP connection was lost again right after it was reopened"


@dataclass(frozen=True)
class Outbox:
    """How messages leave: the SMTP settings, the one-click unsubscribe secret, where progress lines go."""

    smtp: SmtpSettings
    secret: str = ""
    progress: Callable[[str], None] | None = None
    every: int = 10


@dataclass
class Work:
    """What a run works on: the state file as last written, the latest campaign, the campaigns still open."""

    recorded: dict
    current: campaigns.Campaign | None = None
    journal: Journal | None = None  # the current campaign's, while it is open
    resumed: bool = True
    open: dict[int, tuple[campaigns.Campaign, Journal]] = field(default_factory=dict)  # unsettled, by number

    def keep(self, campaign: campaigns.Campaign, journal: Journal) -> None:
        """Record a change of `campaign` (completed, settled) in the run's view."""
        if campaign.settled:
            self.open.pop(campaign.number, None)
        else:
            self.open[campaign.number] = (campaign, journal)
        if self.current and self.current.number == campaign.number:
            self.current = campaign


def send_campaign(config, settings, output, today, outbox: Outbox, audience: Audience, resend_in_doubt) -> Result:
    """Under the lock: recover, then resend what is in doubt, or pick or freeze the campaign and send it.

    resend_in_doubt: False, True (every campaign with messages in doubt) or a campaign number.
    """
    work = recover(config, audience)
    if resend_in_doubt:
        return resend(config, work, outbox, audience, resend_in_doubt)
    planned = pick(work, config, settings, output, today, audience)
    if planned is None:
        return Result(None, message=nothing_new(work.recorded), warnings=doubt_warnings(work, audience))
    result = send_planned(config, work, outbox, audience, work.current, work.journal, planned, work.resumed)
    result.warnings = doubt_warnings(work, audience, sending=work.current)
    return raise_if_incomplete(result)


def raise_if_incomplete(result: Result) -> Result:
    if result.stopped or result.failed or result.new_in_doubt:
        raise NewsletterError(result.message, result)
    return result


def recover(config, audience: Audience) -> Work:
    """Clear what a killed run left half-written; its message in flight becomes in doubt. A complete campaign
    with nothing in doubt is settled (never read again); the others stay open."""
    campaigns.remove_unfinished_freezes(config.campaign_dir)
    work = Work(state.load(config.state_file))
    for campaign in campaigns.unsettled(config.campaign_dir):
        journal = campaign.journal()
        journal.remove_temp_files()
        journal.recover()
        if campaign.completed and not plan.doubtful(journal.entries, audience):
            campaign = campaigns.settle(campaign)
        work.keep(campaign, journal)
    work.current = campaigns.latest(config.campaign_dir)
    if work.current:
        _, work.journal = work.open.get(work.current.number, (None, None))
        record_issue(config, work)
    return work


def doubt_warnings(work: Work, audience: Audience, sending: campaigns.Campaign | None = None) -> list[str]:
    """One line per open campaign (but the one being sent) whose messages in doubt still wait for a decision."""
    lines = []
    for number, (campaign, journal) in sorted(work.open.items()):
        doubtful = plan.doubtful(journal.entries, audience)
        if doubtful and (sending is None or number != sending.number):
            lines.append(campaign.doubt_warning(doubtful))
    return lines


# --- a normal send --------------------------------------------------------------------------------------
def pick(work: Work, config, settings, output, today, audience: Audience) -> plan.Plan | None:
    """Resume the unfinished campaign; when it has no one left (or there is none), freeze the next issue.

    None: nothing new to send.
    """
    if work.current and not work.current.completed:
        planned = plan.make(audience.listed, audience.unsubscribed, work.journal.entries)
        if planned.unfinished:
            return planned
        finish(config, work, work.current, work.journal, planned)
    number = next_number(config, work.recorded)
    issue = compose(config, settings, output, work.recorded, number, today)
    if issue is None:
        return None
    planned = plan.make(audience.listed, audience.unsubscribed, {})
    if not planned.to_send:
        raise NewsletterError(f"every address of the recipients file is unsubscribed ({len(planned.suppressed)} "
                              f"in {config.suppression_file}): issue {number} was not started")
    work.current = campaigns.freeze(config.campaign_dir, number, issue.subject, issue.items, issue.html, issue.text,
                                   today.isoformat())
    work.journal, work.resumed = work.current.journal(), False
    work.keep(work.current, work.journal)
    record_issue(config, work, new=True)
    return planned


def record_issue(config, work: Work, new: bool = False) -> None:
    """The campaign's issue in the state file, before anything is sent (also repairs a run that died
    between freezing a campaign and recording it)."""
    current = work.current
    if state.issue(work.recorded, current.number) is not None:
        return
    updated = state.with_issue(work.recorded, {
        "number": current.number, "date": current.date, "subject": current.subject,
        "campaign": current.name, "items": list(current.items)})
    try:
        state.save(config.state_file, updated)
    except OSError as error:
        frozen = "frozen but " if new else ""
        raise NewsletterError(f"{config.state_file}: could not record issue {current.number} ({error}); campaign "
                              f"{current.name} is {frozen}not sent to anyone: fix the problem and run --send "
                              "again") from None
    work.recorded = updated


def finish(config, work: Work, campaign, journal: Journal, settled: plan.Plan) -> None:
    """Mark the campaign complete (settled too when nothing is in doubt) and write how many received it into
    its issue in the state file."""
    done = campaigns.complete(campaign, settled=not settled.in_doubt)
    work.keep(done, journal)
    record = state.issue(work.recorded, done.number) or {}
    sent = len(journal.with_state(State.SENT))
    work.recorded = state.with_issue(work.recorded, {**record, "recipients": sent})
    state.save(config.state_file, work.recorded)


# --- --resend-in-doubt ----------------------------------------------------------------------------------
def resend_targets(root, open_campaigns: dict, latest, which, audience: Audience) -> list[tuple]:
    """The (campaign, journal) pairs --resend-in-doubt works on: campaign `which`, or (which is True) every open
    one with messages in doubt, and the latest while it is unfinished (its waiting recipients go too)."""
    if latest is None:
        raise NewsletterError("--resend-in-doubt: there is no campaign yet; send one with --send")
    if which is True:
        return [(campaign, journal) for _, (campaign, journal) in sorted(open_campaigns.items())
                if not campaign.completed or plan.doubtful(journal.entries, audience)]
    if which in open_campaigns:
        return [open_campaigns[which]]
    try:
        campaign = campaigns.by_number(root, which)
    except campaigns.CampaignError as error:
        raise NewsletterError(f"--resend-in-doubt {which}: {error}") from None
    return [(campaign, campaign.journal())]  # settled: nothing in doubt, said as such


def resend(config, work: Work, outbox: Outbox, audience: Audience, which) -> Result:
    targets = resend_targets(config.campaign_dir, work.open, work.current, which, audience)
    if not targets:
        return Result(None, message="No campaign has a message in doubt or a recipient waiting: nothing to resend.")
    parts = []
    for campaign, journal in targets:
        planned = plan.make(audience.listed, audience.unsubscribed, journal.entries,
                            completed=bool(campaign.completed), resend_in_doubt=True)
        part = send_planned(config, work, outbox, audience, campaign, journal, planned, resumed=True)
        parts.append(part)
        if part.stopped:
            break  # the server is gone: the other campaigns wait for the next run
    if len(parts) == 1:
        return raise_if_incomplete(parts[0])
    result = Result(None, campaign=", ".join(part.campaign for part in parts), sending=True, parts=parts,
                    problems=audience.problems, message=" ".join(part.message for part in parts),
                    sent_to=sum(part.sent_to for part in parts),
                    new_in_doubt=sum(part.new_in_doubt for part in parts),
                    stopped=next((part.stopped for part in parts if part.stopped), ""))
    for part in parts:
        result.failed += part.failed
        result.bounced += part.bounced
        result.in_doubt += part.in_doubt
        part.problems = []  # said once, by the whole
    return raise_if_incomplete(result)


# --- delivery -------------------------------------------------------------------------------------------
def send_planned(config, work: Work, outbox: Outbox, audience: Audience, campaign, journal: Journal,
                 planned: plan.Plan, resumed: bool) -> Result:
    """Send one campaign's planned messages, then complete or settle it when nothing is left to do."""
    result = Result(campaign.number, campaign.subject, list(campaign.items), campaign=campaign.name, resumed=resumed,
                    skipped=len(planned.already_sent), suppressed=len(planned.suppressed),
                    problems=audience.problems, sending=True)
    if not planned.recipients:
        result.message = f"Campaign {campaign.name}: no message in doubt or waiting to be sent."
        return result
    deliver(config, outbox, campaign, journal, planned.recipients, result)
    settled = plan.make(audience.listed, audience.unsubscribed, journal.entries, completed=bool(campaign.completed))
    result.in_doubt = [(entry.address, entry.message_id) for entry in settled.in_doubt]
    if not result.stopped:
        if not campaign.completed and not settled.unfinished:
            finish(config, work, campaign, journal, settled)
        elif campaign.completed and not settled.in_doubt:
            work.keep(campaigns.settle(campaign), journal)
    result.message = outcome_line(result, settled, resent=len(planned.resend))
    return result


def deliver(config, outbox: Outbox, current, journal, targets, result: Result) -> None:
    """Send to each target in order, a line of progress every `outbox.every` messages; stops early when the
    courier says so (result.stopped), leaving the rest pending for the next run."""
    courier = Courier(config, outbox, current, journal, result)
    smtp = outbox.smtp
    try:
        courier.session.open()
    except (smtplib.SMTPException, OSError) as error:
        raise NewsletterError(f"could not connect to the SMTP server at {smtp.host}:{smtp.port} ({error}); "
                              f"nothing was sent from campaign {current.name}: fix it and run --send again",
                              result) from None
    try:
        for done, recipient in enumerate(targets, start=1):
            if not courier.send(recipient):
                return
            if outbox.progress and (done % outbox.every == 0 or done == len(targets)):
                outbox.progress(f"  {current.name}: {done}/{len(targets)} done ({result.sent_to} sent, "
                                f"{len(result.failed)} failed, {result.new_in_doubt} in doubt)")
    finally:
        courier.session.close()


class Courier:
    """Hands one message at a time to the server, journalling it before (in flight) and after.

    A lost connection is opened again once; when that fails, or the new connection is lost too before it
    delivered a message, the run stops (servers that close a connection every N messages still get the
    whole list; one that never answers does not make the run loop).
    """

    def __init__(self, config, outbox: Outbox, current, journal, result: Result):
        self.config, self.smtp, self.current, self.journal, self.result = config, outbox.smtp, current, journal, result
        self.secret = outbox.secret
        self.session = mail.Session(outbox.smtp)
        self.reconnected = False  # the connection was reopened and has delivered nothing yet
        self.domain = mail.sender_domain(outbox.smtp.sender)
        self.html, self.text = current.html, current.text

    def connected(self) -> bool:
        if self.session.connected:
            return True
        if self.reconnected:
            self.result.stopped = LOST_AGAIN
            return False
        self.reconnected = True
        try:
            self.session.open()
        except (smtplib.SMTPException, OSError) as error:
            self.result.stopped = f"the SMTP connection was lost and could not be opened again ({error})"
            return False
        return True

    def send(self, recipient) -> bool:
        """Deliver to one recipient; False when the run must stop."""
        while self.connected():
            delivery, entry = self.attempt(recipient)
            if delivery.outcome is mail.Outcome.SENT:
                self.journal.sent(entry.key, delivery.reply)
                self.result.sent_to += 1
                self.reconnected = False
                return True
            if delivery.outcome is mail.Outcome.IN_DOUBT:
                self.journal.in_doubt(entry.key, delivery.reply)
                self.result.new_in_doubt += 1
                return True
            if delivery.outcome is mail.Outcome.BOUNCED:
                self.journal.bounced(entry.key, delivery.reply)
                self.result.bounced.append((entry.address, delivery.reply))
                return True
            self.journal.failed(entry.key, delivery.reply)
            if delivery.outcome is mail.Outcome.DROPPED and not self.reconnected:
                continue  # nothing was delivered: the same message again, on a new connection
            self.result.failed.append((entry.address, delivery.reply))
            if delivery.outcome is mail.Outcome.SENDER_REFUSED:
                self.result.stopped = f"the server refused the sender {self.smtp.envelope_from} ({delivery.reply})"
                return False
            if delivery.outcome is mail.Outcome.DROPPED:
                self.result.stopped = LOST_AGAIN
                return False
            return True
        return False

    def attempt(self, recipient):
        entry = self.journal.begin(recipient.key, recipient.address,
                                   self.current.message_id(recipient.key, self.domain), formatdate(localtime=True))
        message = mail.message(self.current.subject, self.smtp.sender, entry.address, self.html, self.text,
                               self.config.unsubscribe_email, self.config.unsubscribe_target(entry.address, self.secret),
                               one_click=self.config.unsubscribe_post, message_id=entry.message_id, date=entry.date)
        return self.session.deliver(self.smtp.envelope_from, entry.address, mail.wire_bytes(message)), entry


def outcome_line(result: Result, settled, resent: int = 0) -> str:
    verb = "resumed" if result.resumed else "started"
    if result.stopped:
        waiting = len(settled.to_send)
        return (f"Campaign {result.campaign} stopped: {result.stopped}. {result.sent_to} sent in this run, "
                f"{waiting} still to send: run --send again.")
    bounced = (f"; {len(result.bounced)} bounced (refused for good, never tried again: see below)"
               if result.bounced else "")
    if settled.unfinished:
        return (f"Campaign {result.campaign} {verb}: {result.sent_to} sent, {len(result.failed)} failed "
                f"(see below){bounced}; it stays unfinished: the next --send tries the failed ones again "
                "(or unsubscribe them).")
    if result.new_in_doubt:
        return (f"Campaign {result.campaign} {verb}: {result.sent_to} sent, {result.new_in_doubt} in doubt "
                f"(the connection was lost before the server confirmed them){bounced}: see --status.")
    if resent:
        return (f"Campaign {result.campaign} (issue {result.number}): {resent} message(s) in doubt resent with "
                f"the same Message-ID, {result.sent_to} sent in all{bounced}.")
    recipients = "recipient" if result.sent_to == 1 else "recipients"
    return (f"Issue {result.number} ({len(result.items)} items) sent to {result.sent_to} {recipients} "
            f"({verb} campaign {result.campaign}){bounced}.")
