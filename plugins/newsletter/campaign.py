"""A campaign: one issue frozen at its first attempt (subject, HTML, text, item GUIDs) with its journal.

    <campaign folder>/numero-3/campaign.json   number, subject, items, created, date, completed, settled
                               issue.html, issue.txt
                               journal/<hash>.json   one per recipient (journal.py)

The folder is written under a temporary name and renamed into place, so a campaign is either whole or
absent. A retry sends exactly this issue, whatever was published since.

A campaign is *settled* once it is complete and none of its messages is in doubt: nothing can happen to
it any more, so no run reads its journal again. Until then every run looks at it, because a message in
doubt can still be resent (--resend-in-doubt) whatever campaigns came after it.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import shutil
import uuid
from dataclasses import dataclass, replace
from pathlib import Path

from core import durable
from .journal import Entry, Journal
from .result import NewsletterError

PREFIX = "numero-"


class CampaignError(NewsletterError):
    """A campaign folder cannot be read."""


@dataclass(frozen=True)
class Campaign:
    folder: Path
    number: int
    uid: str
    subject: str
    items: tuple[str, ...]
    created: str
    date: str = ""  # the date (ISO), as the state file records it
    completed: str = ""
    settled: str = ""  # when it was found complete with no message in doubt: never read again

    @property
    def name(self) -> str:
        return self.folder.name

    @property
    def html(self) -> str:
        return (self.folder / "issue.html").read_text(encoding="utf-8")

    @property
    def text(self) -> str:
        return (self.folder / "issue.txt").read_text(encoding="utf-8")

    def journal(self) -> Journal:
        return Journal(self.folder / "journal")

    def message_id(self, key: str, domain: str) -> str:
        """Fixed per campaign and recipient (and kept in the journal from the first attempt on)."""
        token = hashlib.sha256(f"{self.uid}\n{key}".encode("utf-8")).hexdigest()[:24]
        return f"<{self.name}.{token}@{domain}>"

    def doubt_warning(self, doubtful: list[Entry]) -> str:
        """One line about this campaign's messages in doubt (the first few addresses named)."""
        shown = ", ".join(entry.address for entry in doubtful[:3])
        more = f" and {len(doubtful) - 3} more" if len(doubtful) > 3 else ""
        return (f"Campaign {self.name} has {len(doubtful)} message(s) in doubt ({shown}{more}): see --status; "
                f"--resend-in-doubt {self.number} resends them.")

    def record(self) -> dict:
        return {"number": self.number, "uid": self.uid, "subject": self.subject, "items": list(self.items),
                "created": self.created, "date": self.date, "completed": self.completed, "settled": self.settled}


def now() -> str:
    return dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")


def read(folder: Path) -> Campaign:
    path = folder / "campaign.json"
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return Campaign(folder, int(data["number"]), data["uid"], data["subject"], tuple(data["items"]),
                        data["created"], data.get("date") or data["created"][:10], data.get("completed") or "",
                        data.get("settled") or "")
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise CampaignError(f"{path}: not a campaign file ({error}); restore it from a backup") from None


def folders(root: Path) -> list[Path]:
    """The campaign folders, oldest first (by issue number)."""
    if not root.is_dir():
        return []
    found = [path for path in root.iterdir()
             if path.is_dir() and path.name.startswith(PREFIX) and path.name[len(PREFIX):].isdigit()]
    return sorted(found, key=lambda path: int(path.name[len(PREFIX):]))


def latest(root: Path) -> Campaign | None:
    found = folders(root)
    return read(found[-1]) if found else None


def unsettled(root: Path) -> list[Campaign]:
    """The campaigns something can still happen to (unfinished, or with messages in doubt), oldest first."""
    return [campaign for campaign in map(read, folders(root)) if not campaign.settled]


def by_number(root: Path, number: int) -> Campaign:
    folder = root / f"{PREFIX}{number}"
    if not (folder / "campaign.json").is_file():
        raise CampaignError(f"there is no campaign {number} ({folder} does not exist): see --status")
    return read(folder)


def remove_unfinished_freezes(root: Path) -> None:
    """Temp folders of a freeze that was interrupted: the campaign never existed, nothing was sent from it."""
    if root.is_dir():
        for path in root.iterdir():
            if path.is_dir() and durable.is_temp(path):
                shutil.rmtree(path)


def freeze(root: Path, number: int, subject: str, items: list[str], html: str, text: str,
           date: str = "") -> Campaign:
    """Write the issue once, whole, as campaign `number`; from now on every attempt sends this."""
    folder = root / f"{PREFIX}{number}"
    if folder.exists():
        raise CampaignError(f"{folder} exists already: campaign {number} was frozen before")
    created = now()
    campaign = Campaign(folder, number, uuid.uuid4().hex, subject, tuple(items), created, date or created[:10])
    temp = root / f"{durable.TEMP_PREFIX}{os.getpid()}-{folder.name}"
    temp.mkdir(parents=True)
    durable.write_bytes(temp / "issue.html", html.encode("utf-8"))
    durable.write_bytes(temp / "issue.txt", text.encode("utf-8"))
    durable.write_json(temp / "campaign.json", campaign.record())
    (temp / "journal").mkdir()
    durable.fsync_folder(temp)
    os.replace(temp, folder)
    durable.fsync_folder(root)
    return campaign


def complete(campaign: Campaign, settled: bool) -> Campaign:
    """Mark the campaign done: it is never resumed again (later subscribers get the next issue); settled too
    when none of its messages is in doubt."""
    moment = now()
    done = replace(campaign, completed=moment, settled=moment if settled else "")
    durable.write_json(campaign.folder / "campaign.json", done.record())
    return done


def settle(campaign: Campaign) -> Campaign:
    """A complete campaign whose last message in doubt was resent (or whose doubtful recipients left)."""
    done = replace(campaign, settled=now())
    durable.write_json(campaign.folder / "campaign.json", done.record())
    return done
