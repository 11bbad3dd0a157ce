"""One Pelican build that lists every problem at the end: python -m core.runner CONTENT -s SETTINGS -o OUTPUT.

Pelican runs in this process without --fatal, so one bad file does not stop the build: every warning and
error logged by Pelican or a plugin is collected (once), turned into one line that names the file (relative
to the project, with the line where it can be found) and printed in one block at the end; the exit status
is 1 when there was any. An exception that stops the build is one such line too. Warnings a plugin logs on
a plain logging.Logger are notices, as under --fatal: printed, never a failed build. With --debug,
Pelican's debug output and the tracebacks are printed as well.
"""

from __future__ import annotations

import argparse
import atexit
import gc
import logging
import os
import sys
import traceback
from contextlib import contextmanager
from pathlib import Path

from pelican import Pelican, signals
from pelican.log import DEFAULT_LOG_HANDLER, FatalLogger
from pelican.log import init as init_logging
from pelican.settings import read_settings

from . import problems
from .rendercache import REUSE_SETTING

ENGINE = Path(__file__).resolve().parents[2]  # the folder holding plugins/ and theme/
READ_FAILED = "Could not process %s"  # what Pelican logs when a post or page cannot be read
# Pelican's warnings about items sharing a slug end with the list of their files, one a line.
SAME_SLUG = ("There are %s items ", "There are %s original (not translated) items ")
# A full collection walks every object the build holds; once the content is read (and kept to the end) it
# is frozen out of them, and a full collection runs after this many of the middle generation, not ten.
FULL_COLLECTION_AFTER = 100


class Collector(logging.Handler):
    """Keeps each warning and error of the build as the text of one problem line."""

    def __init__(self):
        super().__init__(logging.WARNING)
        self.messages: list[str] = []
        self.notices: list[str] = []  # warnings of plain loggers: shown, never a failed build
        self.superseded: set[str] = set()
        self.listing: dict[str, tuple[str, ...]] = {}  # a message that lists files: those files
        self.ignored: set = set()
        self.content_path = ""

    def configure(self, settings: dict) -> None:
        self.ignored = set(settings.get("LOG_FILTER", []))
        self.content_path = settings["PATH"]

    def emit(self, record: logging.LogRecord) -> None:
        message = record.getMessage()
        if (record.levelno, record.msg) in self.ignored or (record.levelno, message) in self.ignored:
            return
        supersedes = getattr(record, "supersedes", ())
        self.superseded.update((supersedes,) if isinstance(supersedes, str) else supersedes)
        if record.msg == READ_FAILED and record.args:
            # Pelican logs this inside its except clause, without the exception unless DEBUG: take it from there.
            error = record.exc_info[1] if record.exc_info else sys.exc_info()[1]
            message = unreadable(os.path.join(self.content_path, str(record.args[0])), error)
        elif record.exc_info and record.exc_info[1] is not None:
            error = record.exc_info[1]
            message = f"{message}: {type(error).__name__}: {error}"
        elif isinstance(record.msg, str) and record.msg.startswith(SAME_SLUG):
            head, _, listed = message.partition(": \n")
            files = tuple(listed.split("\n"))
            message = f"{head}: {', '.join(files)}"
            self.listing[message] = files
        (self.messages if fails_the_build(record) else self.notices).append(message)

    def problems(self, root: str, notices: bool = False) -> list[problems.Problem]:
        found = []
        for message in self.notices if notices else self.messages:
            if message.partition("\n")[0] in self.superseded:
                continue  # a check of the build said it better, naming the file
            if message in self.listing and self._named_elsewhere(message):
                continue  # the same files are already named by a line that says what to change
            for base in (root, str(ENGINE)):
                message = problems.relative(message, base)
            message = " ".join(part.strip() for part in message.splitlines() if part.strip())  # one line each
            found.append(with_field_line(problems.split_location(message, lambda p: _is_file(root, p)), root))
        return found

    def _named_elsewhere(self, listing: str) -> bool:
        others = [m for m in self.messages if m not in self.listing]
        return any(all(path in other for path in self.listing[listing]) for other in others)


def fails_the_build(record: logging.LogRecord) -> bool:
    """As under Pelican's --fatal: only records of Pelican's logger class count (a plugin logs a notice,
    such as "the comment server is down", on a plain logging.Logger of its own)."""
    logger = logging.root if record.name == "root" else logging.Logger.manager.loggerDict.get(record.name)
    return isinstance(logger, FatalLogger)


def _is_file(root: str, path: str) -> bool:
    return bool(path) and os.path.isfile(os.path.join(root, path))


def _text(path: str) -> str:
    try:
        return Path(path).read_bytes().decode("utf-8", errors="replace")
    except OSError:
        return ""


def with_field_line(problem: problems.Problem, root: str) -> problems.Problem:
    """The problem with the line of the field it names ("field 'price': ...") when the file shows it."""
    if problem.line or not problem.file or not problem.text.startswith("field '"):
        return problem
    field = problem.text[len("field '"):].partition("'")[0]
    line = problems.field_line(_text(os.path.join(root, problem.file)), field)
    return problems.Problem(problem.file, line or 0, problem.text)


def unreadable(path: str, error: BaseException | None) -> str:
    """One line for a post or page Pelican could not read: the file, the line and field when known, the fix."""
    if isinstance(error, UnicodeDecodeError):
        try:
            data = Path(path).read_bytes()
        except OSError:
            data = b""
        if data:
            line, message = problems.not_utf8(data, error)
            return f"{path}:{line}: {message}"
    value = problems.pelican_date_value(error) if error is not None else None
    if value is not None:
        found = problems.header_field_with_value(_text(path), ("date", "modified"), value)
        if found:
            field, line = found
            return f"{path}:{line}: field '{field}': {problems.not_a_date(value)}"
        return f"{path}: {problems.not_a_date(value)}"
    if error is None:
        return f"{path}: could not be read"
    return f"{path}: could not be read: {type(error).__name__}: {error}"


def misconfigured(error: BaseException, settings_file: str) -> str:
    """One line for an error of the settings, found before anything is read: the settings file and the reason."""
    if isinstance(error, SyntaxError) and error.filename:
        return f"{error.filename}:{error.lineno}: {error.msg}"
    return f"{settings_file}: {error or type(error).__name__}"


def stopped(error: BaseException, settings_file: str) -> str:
    """One line for an exception that stopped the build: where it was raised in the project, and what."""
    where = settings_file
    if getattr(error, "filename", None) and getattr(error, "lineno", None):  # a template's syntax error
        where = f"{error.filename}:{error.lineno}"
    for frame in reversed(traceback.extract_tb(error.__traceback__) if where == settings_file else []):
        if frame.filename.endswith(".html") or frame.filename.startswith(str(ENGINE / "plugins")):
            where = f"{frame.filename}:{frame.lineno}"
            break
    return (f"{where}: the build stopped: {type(error).__name__}: {error} "
            f"(build again with --debug to see the traceback)")


def parse_arguments(argv):
    parser = argparse.ArgumentParser(prog="python -m core.runner", description=__doc__.splitlines()[0])
    parser.add_argument("content", help="the content folder")
    parser.add_argument("-s", "--settings", required=True, help="the settings file")
    parser.add_argument("-o", "--output", required=True, help="the folder to write the site into")
    parser.add_argument("--debug", action="store_true", help="print Pelican's debug output and the tracebacks")
    parser.add_argument("--reuse", metavar="FOLDER",
                        help="a finished build of the same site: its pages that did not change are linked, not "
                             "rendered again (core.rendercache)")
    return parser.parse_args(argv)


def build_once(collector: Collector, settings_file: str, overrides: dict, debug: bool = False,
               phases=None) -> None:
    """Read the settings and run Pelican once; whatever stops the build becomes one line in the collector."""
    started = False
    try:
        settings = read_settings(settings_file, override={**overrides, "DEBUG": debug})
        collector.configure(settings)
        pelican = Pelican(settings)  # the plugins check their settings here
        started = True
        if phases:
            phases.mark("settings and plugins")
        with collected_sparingly():
            pelican.run()
        if phases:
            phases.mark("run")
            print(phases.lines(), file=sys.stderr)
    except Exception as error:  # noqa: BLE001 - any failure becomes one line of the report
        if debug:
            traceback.print_exception(error)
        explain = stopped if started else misconfigured
        collector.messages.append(explain(error, settings_file))


@contextmanager
def collected_sparingly():
    """Python's cycle collector, tuned for one build: what the generators read is frozen, full passes are rare.

    Every post, product and page read stays alive to the end of the build, yet each full collection walked
    them all again (about two seconds of a 4,000-page build, in the build's own process alone): once the
    contexts are made (all_generators_finalized) the objects alive are moved out of the collector's sight,
    and the page renders' own garbage, young, is collected as before. Only collection times change: the
    memory freed by reference counting is freed as before, and the build's peak RSS is the bench's to tell.
    """
    thresholds = gc.get_threshold()
    gc.set_threshold(thresholds[0], thresholds[1], max(thresholds[2], FULL_COLLECTION_AFTER))
    signals.all_generators_finalized.connect(_freeze_read_content)
    try:
        yield
    finally:
        signals.all_generators_finalized.disconnect(_freeze_read_content)
        gc.unfreeze()
        gc.set_threshold(*thresholds)


def _freeze_read_content(generators) -> None:
    gc.freeze()


def print_report(collector: Collector, root: str) -> bool:
    """Print the notices, then every problem as one block; True when there is no problem."""
    notices = collector.problems(root, notices=True)
    if notices:
        print("\n".join(f"Notice: {notice}" for notice in sorted(set(notices))), file=sys.stderr)
    found = collector.problems(root)
    if found:
        print(problems.report(found), file=sys.stderr)
    return not found


def main(argv=None) -> int:
    args = parse_arguments(argv)
    collector = Collector()
    # Warnings reach the collector undeduplicated and ungrouped (it deduplicates by the final line itself).
    init_logging(level=logging.DEBUG if args.debug else logging.WARNING, handler=collector,
                 logs_dedup_min_level=logging.INFO)
    if args.debug:
        logging.getLogger().addHandler(DEFAULT_LOG_HANDLER)
    phases = None
    if os.environ.get("VETRINA_PHASES") == "1":  # where the build's time went, on stderr, for the bench
        from .bench import PhaseClock

        phases = PhaseClock.from_environment()
    try:
        overrides = {"PATH": os.path.abspath(args.content), "OUTPUT_PATH": os.path.abspath(args.output)}
        if args.reuse:
            overrides[REUSE_SETTING] = os.path.abspath(args.reuse)
        build_once(collector, os.path.abspath(args.settings), overrides, args.debug, phases)
    except KeyboardInterrupt:
        print("The build was interrupted.", file=sys.stderr)
        return 130
    return 0 if print_report(collector, os.getcwd()) else 1


def exit_now(code: int) -> None:
    """Leave as sys.exit would, without the interpreter's teardown, which frees the whole build one object
    at a time (over half a second at 4,000 pages): the exit functions run and the streams are flushed first."""
    atexit._run_exitfuncs()  # logging's shutdown among them
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):
            pass
    os._exit(code)


if __name__ == "__main__":
    exit_now(main())
