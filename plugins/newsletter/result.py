"""What a newsletter run did, and the error that carries it when the run could not do everything."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path


class NewsletterError(RuntimeError):
    """A run that could not do all it should; `.result` holds what it did (sent, failed, in doubt)."""

    def __init__(self, message: str, result: "Result | None" = None):
        super().__init__(message)
        self.result = result


@dataclass
class Result:
    number: int | None
    subject: str = ""
    items: list[str] = field(default_factory=list)  # the GUIDs of the issue
    sent_to: int = 0
    preview: list = field(default_factory=list)
    message: str = ""
    campaign: str = ""
    resumed: bool = False
    failed: list[tuple[str, str]] = field(default_factory=list)  # (address, reason): tried again by the next run
    bounced: list[tuple[str, str]] = field(default_factory=list)  # (address, 5xx reply): refused for good
    in_doubt: list[tuple[str, str]] = field(default_factory=list)  # (address, Message-ID)
    new_in_doubt: int = 0  # of those, the ones this run left in doubt
    skipped: int = 0  # sent before
    suppressed: int = 0
    problems: list = field(default_factory=list)  # invalid or repeated lines of the address lists
    stopped: str = ""  # why the run stopped before the end of the list
    sending: bool = False  # messages were (or were to be) handed to the server in this run
    warnings: list[str] = field(default_factory=list)  # other campaigns' messages in doubt, one line each
    parts: list["Result"] = field(default_factory=list)  # one per campaign, when a run sent from several

    def counts(self) -> list[str]:
        """This campaign's line of counts, then one line per address that needs a look."""
        lines = [f"Campaign {self.campaign} (issue {self.number}): sent {self.sent_to}, failed {len(self.failed)}, "
                 f"bounced {len(self.bounced)}, in doubt {len(self.in_doubt)}, skipped {self.skipped} (sent before), "
                 f"suppressed {self.suppressed} (unsubscribed)."]
        lines += [f"  failed: {address}: {reason} (tried again by the next --send)" for address, reason in self.failed]
        lines += [f"  bounced: {address}: {reply}: refused for good, never tried again; if the address is "
                  "misspelt, correct it in the recipients file (it is then a new subscriber)"
                  for address, reply in self.bounced]
        lines += [f"  in doubt: {address} {message_id}: the server may have it; check, then resend it with "
                  f"--resend-in-doubt {self.number} (same Message-ID) or leave it"
                  for address, message_id in self.in_doubt]
        return lines

    def summary(self) -> list[str]:
        lines = [line for part in self.parts or [self] for line in part.counts()]
        lines += [f"  ignored: {problem}" for problem in self.problems]
        return lines + self.warnings

    def report(self, root: Path | None = None) -> list[str]:
        """What the command prints: the outcome, then the summary of a send, or the preview's files."""
        if self.sending:
            return [self.message, *self.summary()]
        paths = [f"  {path.relative_to(root) if root else path}" for path in self.preview]
        return [self.message, *self.warnings, *[f"  ignored: {problem}" for problem in self.problems], *paths]
