"""Send a campaign under the lock: recover from the last run, pick or freeze the campaign, deliver, record."""

from __future__ import annotations

import smtplib
from dataclasses import dataclass
from email.utils import formatdate

from . import campaign as campaigns
from . import mail, plan, state
from .issue import compose, next_number, nothing_new
from .journal import Journal, State
from .result import NewsletterError, Result


LOST_AGAIN = "the SMTP connection was lost again right after it was reopened"


@dataclass
class Work:
    """The campaign a run works on, its journal and the state file's content as last written."""

    recorded: dict
    current: campaigns.Campaign | None = None
    journal: Journal | None = None
    resumed: bool = True


def send_campaign(config, settings, output, today, smtp, listed, unsubscribed, problems, resend_in_doubt,
                  progress, progress_every) -> Result:
    """Under the lock: recover, pick or freeze the campaign, send to those who wait for it, record the end."""
    work = recover(config)
    if resend_in_doubt:
        planned = for_resend(work, listed, unsubscribed)
    else:
        planned = pick(work, config, settings, output, today, listed, unsubscribed)
    current, journal = work.current, work.journal
    if planned is None:
        return Result(None, message=nothing_new(work.recorded) + (current.in_doubt_note() if current else ""))
    result = Result(current.number, current.subject, list(current.items), campaign=current.name,
                    resumed=work.resumed, skipped=len(planned.already_sent), suppressed=len(planned.suppressed),
                    problems=problems, sending=True)
    if not planned.recipients:
        result.message = f"Campaign {current.name}: no message in doubt or waiting to be sent."
        return result
    deliver(config, smtp, current, journal, planned.recipients, result, progress, progress_every)
    settled = plan.make(listed, unsubscribed, journal.entries, completed=bool(current.completed))
    result.in_doubt = [(entry.address, entry.message_id) for entry in settled.in_doubt]
    if not current.completed and not settled.unfinished and not result.stopped:
        finish(config, work)
    result.message = outcome_line(result, settled)
    if result.stopped or result.failed or result.new_in_doubt:
        raise NewsletterError(result.message, result)
    return result


def recover(config) -> Work:
    """Clear what a killed run left half-written; its message in flight becomes in doubt."""
    campaigns.remove_unfinished_freezes(config.campaign_dir)
    work = Work(state.load(config.state_file), campaigns.latest(config.campaign_dir))
    if work.current:
        work.journal = work.current.journal()
        work.journal.remove_temp_files()
        work.journal.recover()
        record_issue(config, work)
    return work


def for_resend(work: Work, listed, unsubscribed) -> plan.Plan:
    """--resend-in-doubt: the latest campaign's in-doubt messages, and its waiting ones if it is unfinished."""
    if work.current is None:
        raise NewsletterError("--resend-in-doubt: there is no campaign yet; send one with --send")
    return plan.make(listed, unsubscribed, work.journal.entries, completed=bool(work.current.completed),
                     resend_in_doubt=True)


def pick(work: Work, config, settings, output, today, listed, unsubscribed) -> plan.Plan | None:
    """Resume the unfinished campaign; when it has no one left (or there is none), freeze the next issue.

    None: nothing new to send.
    """
    if work.current and not work.current.completed:
        planned = plan.make(listed, unsubscribed, work.journal.entries)
        if planned.unfinished:
            return planned
        finish(config, work)
    number = next_number(config, work.recorded)
    issue = compose(config, settings, output, work.recorded, number, today)
    if issue is None:
        return None
    planned = plan.make(listed, unsubscribed, {})
    if not planned.to_send:
        raise NewsletterError(f"every address of the recipients file is unsubscribed ({len(planned.suppressed)} "
                              f"in {config.suppression_file}): issue {number} was not started")
    work.current = campaigns.freeze(config.campaign_dir, number, issue.subject, issue.items, issue.html, issue.text,
                                   today.isoformat())
    work.journal, work.resumed = work.current.journal(), False
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


def finish(config, work: Work) -> None:
    """Mark the campaign complete and write how many received it into its issue in the state file."""
    work.current = campaigns.complete(work.current)
    record = state.issue(work.recorded, work.current.number) or {}
    sent = len(work.journal.with_state(State.SENT))
    work.recorded = state.with_issue(work.recorded, {**record, "recipients": sent})
    state.save(config.state_file, work.recorded)


def deliver(config, smtp, current, journal, targets, result: Result, progress, every: int) -> None:
    """Send to each target in order, a line of progress every `every` messages; stops early when the
    courier says so (result.stopped), leaving the rest pending for the next run."""
    courier = Courier(config, smtp, current, journal, result)
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
            if progress and (done % every == 0 or done == len(targets)):
                progress(f"  {current.name}: {done}/{len(targets)} done ({result.sent_to} sent, "
                         f"{len(result.failed)} failed, {result.new_in_doubt} in doubt)")
    finally:
        courier.session.close()


class Courier:
    """Hands one message at a time to the server, journalling it before (in flight) and after.

    A lost connection is opened again once; when that fails, or the new connection is lost too before it
    delivered a message, the run stops (servers that close a connection every N messages still get the
    whole list; one that never answers does not make the run loop).
    """

    def __init__(self, config, smtp, current, journal, result: Result):
        self.config, self.smtp, self.current, self.journal, self.result = config, smtp, current, journal, result
        self.session = mail.Session(smtp)
        self.reconnected = False  # the connection was reopened and has delivered nothing yet
        self.domain = mail.sender_domain(smtp.sender)
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
                               self.config.unsubscribe_email, self.config.unsubscribe_url,
                               one_click=self.config.unsubscribe_post, message_id=entry.message_id, date=entry.date)
        return self.session.deliver(self.smtp.envelope_from, entry.address, mail.wire_bytes(message)), entry


def outcome_line(result: Result, settled) -> str:
    verb = "resumed" if result.resumed else "started"
    if result.stopped:
        waiting = len(settled.to_send)
        return (f"Campaign {result.campaign} stopped: {result.stopped}. {result.sent_to} sent in this run, "
                f"{waiting} still to send: run --send again.")
    if settled.unfinished:
        return (f"Campaign {result.campaign} {verb}: {result.sent_to} sent, {len(result.failed)} failed "
                f"(see below); it stays unfinished: fix or unsubscribe those addresses, then run --send again.")
    if result.new_in_doubt:
        return (f"Campaign {result.campaign} {verb}: {result.sent_to} sent, {result.new_in_doubt} in doubt "
                "(the connection was lost before the server confirmed them): see --status.")
    recipients = "recipient" if result.sent_to == 1 else "recipients"
    return (f"Issue {result.number} ({len(result.items)} items) sent to {result.sent_to} {recipients} "
            f"({verb} campaign {result.campaign}).")
