"""`--status` (the latest campaign, read only) and `--unsubscribe ADDRESS`."""

from __future__ import annotations

import os
from collections import Counter
from pathlib import Path

from . import campaign as campaigns
from . import lock, plan, recipients, state, suppression
from .journal import State
from .result import NewsletterError
from .settings import NewsletterSettings, recipients_file

LABELS = {State.SENT: "sent", State.FAILED: "failed", State.IN_DOUBT: "in doubt", State.IN_FLIGHT: "in flight",
          State.PENDING: "pending"}


def status(root: Path, settings: dict, environ=os.environ) -> list[str]:
    """Lines that describe the latest campaign: counts per state, failed and in-doubt addresses."""
    config = NewsletterSettings.from_settings(settings, root)
    current = campaigns.latest(config.campaign_dir)
    if current is None:
        last = state.last_number(state.load(config.state_file))
        return [f"No campaign yet in {config.campaign_dir}" + (f" (the state file records {last} issues)." if last
                                                                else ".")]
    running = not lock.is_free(config.lock_file)
    journal = current.journal()
    # With no run holding the lock, what is still in flight belongs to a run that died: in doubt.
    entries = journal.entries if running else journal.as_recovered()
    counts = Counter(entry.state for entry in entries.values())
    progress = "complete since " + current.completed if current.completed else "unfinished"
    lines = [f'Campaign {current.name}: issue {current.number}, "{current.subject}", {len(current.items)} items, '
             f"frozen {current.created}; {progress}" + ("; a send is running now" if running else "") + "."]
    listed_path = recipients_file(environ, root)
    waiting = ""
    if not current.completed and listed_path.is_file():
        listed = recipients.parse(listed_path.read_text(encoding="utf-8"), str(listed_path)).recipients
        planned = plan.make(listed, suppression.load(config.suppression_file).keys, entries)
        counts[State.PENDING] = len(planned.to_send) - planned.retries
        waiting = f", suppressed {len(planned.suppressed)}"
    elif not current.completed:
        waiting = f" (pending not counted: no recipients file at {listed_path})"
    shown = [state_ for state_ in LABELS if counts[state_] or state_ is not State.IN_FLIGHT]
    lines.append("  " + ", ".join(f"{LABELS[state_]} {counts[state_]}" for state_ in shown) + waiting)
    for entry in sorted(entries.values(), key=lambda entry: entry.address):
        if entry.state is State.FAILED:
            lines.append(f"  failed: {entry.address}: {entry.reply}")
        elif entry.state is State.IN_DOUBT:
            lines.append(f"  in doubt: {entry.address} {entry.message_id} ({entry.reply})")
    if counts[State.IN_DOUBT]:
        lines.append("  In doubt means the server may have received it: a normal --send skips it; "
                     "--resend-in-doubt sends it again with the same Message-ID.")
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
