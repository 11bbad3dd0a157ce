"""`--status` (read only: the latest campaign, and every other one with messages in doubt) and
`--unsubscribe ADDRESS`.

Nothing here takes the send lock: a status at the instant a send starts must not make it refuse. Reading
while a send writes is safe, because every journal and campaign file is replaced by an atomic rename.
"""

from __future__ import annotations

import os
from collections import Counter
from pathlib import Path

from . import campaign as campaigns
from . import lock, plan, recipients, state, suppression
from .journal import State
from .result import NewsletterError
from .settings import NewsletterSettings, recipients_file

LABELS = {State.SENT: "sent", State.FAILED: "failed", State.BOUNCED: "bounced", State.IN_DOUBT: "in doubt",
          State.IN_FLIGHT: "in flight", State.PENDING: "pending"}


def status(root: Path, settings: dict, environ=os.environ) -> list[str]:
    """Lines that describe the latest campaign (counts per state, failed, bounced and in-doubt addresses), then
    each older campaign that still has messages in doubt."""
    config = NewsletterSettings.from_settings(settings, root)
    current = campaigns.latest(config.campaign_dir)
    if current is None:
        last = state.last_number(state.load(config.state_file))
        return [f"No campaign yet in {recipients.shown(config.campaign_dir)}" + (f" (the state file records {last} issues)." if last
                                                                else ".")]
    running = not lock.is_free(config.lock_file)
    listed_path = recipients_file(environ, root)
    listed = (recipients.parse(listed_path.read_text(encoding="utf-8"), recipients.shown(listed_path)).recipients
              if listed_path.is_file() else None)
    unsubscribed = suppression.load(config.suppression_file).keys
    entries = entries_of(current, running)
    lines = describe(current, entries, running, listed, unsubscribed, listed_path)
    for campaign in campaigns.unsettled(config.campaign_dir):
        if campaign.number == current.number:
            continue
        entries = entries_of(campaign, running)
        if any(entry.state is State.IN_DOUBT for entry in entries.values()):
            lines += describe(campaign, entries, running, listed, unsubscribed, listed_path)
    if any(line.startswith("  bounced: ") for line in lines):
        lines.append("  Bounced means the server refused the address for good: it is never tried again; a "
                     "misspelt address corrected in the recipients file is a new subscriber.")
    if any(line.startswith("  in doubt: ") for line in lines):
        lines.append("  In doubt means the server may have received it: a normal --send skips it; "
                     "--resend-in-doubt sends it again with the same Message-ID (every campaign's, or only "
                     "campaign N's with --resend-in-doubt N).")
    return lines


def entries_of(campaign, running: bool) -> dict:
    """The campaign's journal entries; with no send running, what is still in flight belongs to a run that
    died: in doubt."""
    journal = campaign.journal()
    return journal.entries if running else journal.as_recovered()


def describe(current, entries: dict, running: bool, listed, unsubscribed: set[str], listed_path: Path) -> list[str]:
    counts = Counter(entry.state for entry in entries.values())
    progress = "complete since " + current.completed if current.completed else "unfinished"
    lines = [f'Campaign {current.name}: issue {current.number}, "{current.subject}", {len(current.items)} items, '
             f"frozen {current.created}; {progress}" + ("; a send is running now" if running else "") + "."]
    waiting = ""
    if not current.completed and listed is not None:
        planned = plan.make(listed, unsubscribed, entries)
        counts[State.PENDING] = len(planned.to_send) - planned.retries
        waiting = f", suppressed {len(planned.suppressed)}"
    elif not current.completed:
        waiting = f" (pending not counted: no recipients file at {listed_path})"
    shown = [state_ for state_ in LABELS if counts[state_] or state_ is not State.IN_FLIGHT]
    lines.append("  " + ", ".join(f"{LABELS[state_]} {counts[state_]}" for state_ in shown) + waiting)
    for entry in sorted(entries.values(), key=lambda entry: entry.address):
        if entry.state is State.FAILED:
            lines.append(f"  failed: {entry.address}: {entry.reply}")
        elif entry.state is State.BOUNCED:
            lines.append(f"  bounced: {entry.address}: {entry.reply}")
        elif entry.state is State.IN_DOUBT:
            lines.append(f"  in doubt: {entry.address} {entry.message_id} ({entry.reply})")
    if not current.completed and not running:
        lines.append("  --send resumes this campaign.")
    return lines


def unsubscribe(root: Path, settings: dict, address: str) -> str:
    """Add an address to the suppression list (normalised; an address already there stays once)."""
    config = NewsletterSettings.from_settings(settings, root)
    try:
        normal, added = suppression.add(config.suppression_file, address)
    except ValueError as error:
        raise NewsletterError(f"--unsubscribe: {address!r} {error}") from None
    if added:
        return f"{normal} unsubscribed: no newsletter is sent to it any more ({config.suppression_file})."
    return f"{normal} was already unsubscribed ({config.suppression_file})."


def busy(root: Path, settings: dict) -> str:
    """Why a send cannot start now ("" when it can): lets the command refuse before it builds the site.

    Only a check: the send itself takes the lock, so two runs that pass this check still cannot both send.
    """
    config = NewsletterSettings.from_settings(settings, root)
    if lock.is_free(config.lock_file):
        return ""
    return f"{config.lock_file} is held: another newsletter run is sending; wait for it to end"
