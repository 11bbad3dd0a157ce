"""The newsletter under real faults: deferred recipients, dropped connections, a sender killed with SIGKILL,
two runs at once, a state file that cannot be written, a server that is down.

Each test counts the messages the SMTP server (aiosmtpd on 127.0.0.1) received per recipient over the failed
run and its retries: every acknowledged recipient exactly once; the message in doubt at most once, unless it is
resent with --resend-in-doubt, and then with exactly the same Message-ID. Kills and concurrent runs use real
processes (this file, run as a script, sends once).
"""

from __future__ import annotations

import datetime as dt
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
if __name__ != "__main__":
    from conftest import run_build, write_content
    from shop_fixtures import catalogue
    from servers import free_port
    from test_newsletter import FIRST_POST, TODAY, site_settings, smtp_environ
    from test_newsletter import smtp_server  # noqa: F401  (the fixture)

    from newsletter import NewsletterError, run, status
    from newsletter.journal import Journal

FIVE = ["alice@example.org", "bob@example.org", "carol@example.org", "dave@example.org", "erin@example.org"]
DAY = dt.date(2026, 11, 22)


@pytest.fixture(scope="module")
def output(tmp_path_factory):
    base = tmp_path_factory.mktemp("newsletter-faults")
    write_content(base / "content", {**catalogue(), "posts/a.md": FIRST_POST})
    return run_build(base / "content", base / "output", "publishconf.py", SHOP_TODAY=TODAY)


@pytest.fixture(scope="module")
def settings():
    return site_settings()


class Site:
    """A site folder with five subscribers, sending the prepared output to the local server."""

    def __init__(self, root, output, settings, controller, inbox):
        self.root, self.output, self.settings, self.inbox, self.controller = root, output, settings, inbox, controller
        self.recipients = root / "iscritti.txt"
        self.recipients.write_text("\n".join(FIVE) + "\n", encoding="utf-8")
        self.environ = smtp_environ(controller.port, self.recipients)
        self.journal_dir = root / "newsletter" / "campagne" / "numero-1" / "journal"

    def send(self, **options):
        return run(self.root, self.settings, self.output, send=True, environ=self.environ, today=DAY, **options)

    def failing_send(self, match=None, **options):
        with pytest.raises(NewsletterError, match=match) as failure:
            self.send(**options)
        return failure.value

    def states(self) -> dict[str, str]:
        return {entry.address: entry.state.value for entry in Journal(self.journal_dir).entries.values()}

    def process(self, *extra) -> subprocess.Popen:
        """The same send in another process (python this_file ROOT OUTPUT), for kills and concurrency."""
        environ = {**os.environ, **self.environ}
        return subprocess.Popen([sys.executable, __file__, str(self.root), str(self.output), *extra], env=environ,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


@pytest.fixture
def site(tmp_path, smtp_server, output, settings):
    controller, inbox = smtp_server
    return Site(tmp_path, output, settings, controller, inbox)


def everyone_once() -> dict:
    return {address: 1 for address in FIVE}


def test_a_deferred_third_recipient_is_retried_alone_until_accepted(site):
    site.inbox.defer = {"carol@example.org"}  # 450: try later
    lines = []
    error = site.failing_send("unfinished", progress=lines.append, progress_every=2)
    assert lines == ["  numero-1: 2/5 done (2 sent, 0 failed, 0 in doubt)",
                     "  numero-1: 4/5 done (3 sent, 1 failed, 0 in doubt)",
                     "  numero-1: 5/5 done (4 sent, 1 failed, 0 in doubt)"]
    assert error.result.sent_to == 4
    assert error.result.failed == [("carol@example.org", "450 4.2.1 mailbox busy, try later")]
    assert site.states()["carol@example.org"] == "failed"
    error = site.failing_send("unfinished")  # still deferred: the four who have it get nothing more
    assert error.result.sent_to == 0 and error.result.skipped == 4
    site.inbox.defer = set()
    result = site.send()
    assert result.sent_to == 1 and result.resumed
    assert site.inbox.count() == everyone_once()
    assert set(site.states().values()) == {"sent"}
    assert site.send().number is None  # complete: nothing more, to anyone


def test_connections_dropped_at_rcpt_are_reopened_and_the_messages_sent_once(site):
    site.inbox.drop_at_rcpt = Counter({"bob@example.org": 1, "dave@example.org": 1})
    result = site.send()
    assert result.sent_to == 5 and result.failed == [] and result.in_doubt == []
    assert site.inbox.count() == everyone_once()
    attempts = {entry.address: entry.attempts for entry in Journal(site.journal_dir).entries.values()}
    assert attempts == {**{address: 1 for address in FIVE}, "bob@example.org": 2, "dave@example.org": 2}


def test_a_connection_lost_again_after_reopening_stops_cleanly_and_the_retry_sends_the_rest(site):
    site.inbox.drop_at_rcpt = Counter({"bob@example.org": 1, "dave@example.org": 2})
    error = site.failing_send("stopped: the SMTP connection was lost again right after it was reopened")
    assert error.result.sent_to == 3  # alice, bob on a reopened connection, carol; dave loses two connections
    assert site.states() == {"alice@example.org": "sent", "bob@example.org": "sent", "carol@example.org": "sent",
                             "dave@example.org": "failed"}
    result = site.send()
    assert result.sent_to == 2 and result.skipped == 3  # dave and erin
    assert site.inbox.count() == everyone_once()


def test_a_connection_lost_after_the_content_leaves_that_message_in_doubt(site):
    site.inbox.drop_after_data = {"carol@example.org"}
    error = site.failing_send("1 in doubt")
    assert error.result.sent_to == 4 and error.result.in_doubt[0][0] == "carol@example.org"
    assert site.states()["carol@example.org"] == "in_doubt"
    nothing = site.send()  # a normal retry skips it: the campaign is complete; it says what waits
    assert nothing.number is None and len(nothing.warnings) == 1
    assert nothing.warnings[0].startswith("Campaign numero-1 has 1 message(s) in doubt (carol@example.org)")
    assert site.inbox.count() == everyone_once()  # carol's first copy did arrive
    first_id = site.inbox.message_ids("carol@example.org")
    result = site.send(resend_in_doubt=1)  # this campaign's, by its number
    assert result.sent_to == 1
    assert site.inbox.count() == {**everyone_once(), "carol@example.org": 2}
    assert site.inbox.message_ids("carol@example.org") == first_id * 2


def test_a_sender_killed_mid_run_leaves_one_message_in_doubt_and_the_retry_sends_the_rest(site):
    site.inbox.hold_at = 3  # carol's message arrives, and its reply waits
    sender = site.process()
    assert site.inbox.holding.wait(60), sender.communicate()
    sender.send_signal(signal.SIGKILL)
    sender.wait(30)
    site.inbox.release.set()
    assert sender.returncode == -signal.SIGKILL
    assert site.inbox.count() == {"alice@example.org": 1, "bob@example.org": 1, "carol@example.org": 1}
    assert site.states() == {"alice@example.org": "sent", "bob@example.org": "sent", "carol@example.org": "in_flight"}

    lines = status(site.root, site.settings, site.environ)  # the kernel released the dead run's lock
    assert "unfinished" in lines[0] and "a send is running" not in lines[0]
    assert lines[1] == "  sent 2, failed 0, bounced 0, in doubt 1, pending 2, suppressed 0"
    [doubt] = [line for line in lines if line.startswith("  in doubt: ")]
    assert doubt.startswith("  in doubt: carol@example.org <numero-1.")

    dry = site.send(dry_run=True)
    assert "resume campaign numero-1" in dry.message and "send to 2 recipients" in dry.message
    assert "skip 2 as sent" in dry.message and "1 in doubt (carol@example.org)" in dry.message

    result = site.send()
    assert result.sent_to == 2 and result.in_doubt[0][0] == "carol@example.org"
    assert site.inbox.count() == everyone_once()
    assert site.states()["carol@example.org"] == "in_doubt"
    [warning] = site.send(dry_run=True).warnings
    assert "numero-1 has 1 message(s) in doubt (carol@example.org)" in warning
    result = site.send(resend_in_doubt=True)
    assert result.sent_to == 1
    assert site.inbox.count() == {**everyone_once(), "carol@example.org": 2}
    first, second = site.inbox.message_ids("carol@example.org")
    assert first == second and first == Journal(site.journal_dir).entries["carol@example.org"].message_id
    copies = [message.as_bytes() for to, message in site.inbox.received if to == "carol@example.org"]
    assert copies[0] == copies[1]  # the same message: headers (Date too) and content


def first_to_exit(processes: list[subprocess.Popen]) -> subprocess.Popen | None:
    for _ in range(1200):  # polls for at most a minute; nothing here measures time
        for process in processes:
            if process.poll() is not None:
                return process
        time.sleep(0.05)
    return None


def test_two_runs_started_together_send_once_and_the_second_names_the_lock(site, monkeypatch):
    site.inbox.hold_at = 1  # the winner holds the lock while its first message waits for the reply
    runs = [site.process(), site.process()]
    assert site.inbox.holding.wait(60)
    lines = status(site.root, site.settings, site.environ)
    assert "a send is running now" in lines[0] and lines[1].startswith("  sent 0, failed 0, bounced 0, in doubt 0, in flight 1")
    # The command refuses at once too, before it spends a build on a send that cannot start.
    import tasks
    from invoke import Context
    from invoke.exceptions import Exit

    monkeypatch.setattr(tasks, "ROOT", site.root)
    monkeypatch.setattr("core.build.build_site", lambda *args, **kwargs: pytest.fail("built before refusing"))
    with pytest.raises(Exit, match="invio.lock is held: another newsletter run is sending"):
        tasks.newsletter(Context(), send=True)
    loser = first_to_exit(runs)
    assert loser is not None, "the second run waited for the lock instead of refusing"
    site.inbox.release.set()
    [winner] = [process for process in runs if process is not loser]
    _, winner_err = winner.communicate(timeout=60)
    _, loser_err = loser.communicate(timeout=10)
    assert winner.returncode == 0, winner_err
    assert loser.returncode == 1
    lock_file = site.root / "newsletter" / "campagne" / "invio.lock"
    assert f"{lock_file} is held by process {winner.pid}" in loser_err and loser_err.count("\n") == 1
    assert site.inbox.count() == everyone_once()


def test_a_state_file_that_cannot_be_written_stops_the_run_before_any_message(site):
    blocked = site.root / "newsletter" / "sent.json"
    (blocked / "in-the-way").mkdir(parents=True)  # a folder where the state file should go
    error = site.failing_send("could not record issue 1")
    assert "not sent to anyone" in str(error) and "\n" not in str(error)
    assert site.inbox.received == []
    (blocked / "in-the-way").rmdir()
    blocked.rmdir()
    result = site.send()  # the frozen campaign is recorded now, and sent
    assert result.number == 1 and result.sent_to == 5
    assert site.inbox.count() == everyone_once()


def test_a_server_that_is_down_gets_nothing_in_flight_and_the_retry_sends_once(site):
    site.environ["VETRINA_SMTP_PORT"] = str(free_port())  # nothing listens there: connections are refused
    error = site.failing_send("could not connect to the SMTP server")
    assert "nothing was sent" in str(error)
    assert site.states() == {}  # the campaign is frozen, no message was begun
    site.environ["VETRINA_SMTP_PORT"] = str(site.controller.port)
    assert site.send().sent_to == 5
    assert site.inbox.count() == everyone_once()


def main(root: str, output: str) -> int:
    """One `--send` in this process, as `invoke newsletter --send --no-build` does it."""
    sys.path[:0] = [str(HERE), str(HERE.parent), str(HERE.parent / "plugins")]
    from pelican.settings import read_settings

    from newsletter import NewsletterError, run

    settings = read_settings(str(HERE.parent / "publishconf.py"),
                             override={"THEME": str(HERE.parent / "theme"), "SHOP_TODAY": "2026-11-22"})
    try:
        run(Path(root), settings, Path(output), send=True, today=DAY)
    except NewsletterError as error:
        print(f"Newsletter: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:3]))
