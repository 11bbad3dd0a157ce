"""Both cores for writing: the pages of a generator rendered by this process and forked copies of it.

While a posts, pages or products generator writes its output, the build's writer (integrity.OutputGuard)
records each write instead of rendering it. When the generator is done, the writes are dealt into one
share per core: this process renders the first share while a fork of it renders each other one. A fork
shares everything the templates read (nothing is pickled there) and sends back only what its pages left
behind: the log records, the files it claimed, and each accumulating register's additions (the sitemap's
entries, the images asked for...), which this process then takes.

Plugins declare such a register with `accumulates(name, start, additions, merge)`; its result must not
depend on the order pages were written in (the sitemap sorts its entries). A fork that fails, or that
wrote a file this process wrote too, leaves its share to this process, rendered after its own: slower,
never different. No fork without os.fork, with other threads running, or with SITE_WORKERS = 1.
"""

from __future__ import annotations

import logging
import math
import os
import pickle
import sys
import tempfile
import threading
import traceback
from dataclasses import dataclass
from typing import Any, Callable

logger = logging.getLogger(__name__)

# Below this many page renders a fork costs more than it saves.
MIN_FORKED_PAGES = 64


@dataclass(frozen=True)
class Register:
    """What a plugin's pages accumulate while they render: how a fork tells its additions to this process."""

    start: Callable[[dict], Any]  # context -> a mark of the register now (in the fork, before its run)
    additions: Callable[[dict, Any], Any]  # context, mark -> what was added since (picklable)
    merge: Callable[[dict, Any], None]  # context, additions -> take them here
    idle: Callable[[dict], None] | None = None  # context -> a little work while this process waits for a fork


REGISTERS: dict[str, Register] = {}
WAIT_STEP = 0.02  # seconds between two looks at a fork this process waits for


def accumulates(name: str, start, additions, merge, idle=None) -> None:
    """Declare a register the pages add to while rendering (once per process, at plugin registration)."""
    REGISTERS[name] = Register(start, additions, merge, idle)


@dataclass
class Write:
    """One recorded write_file call, its context copied as it was."""

    name: str
    template: Any
    context: dict
    args: tuple
    kwargs: dict
    pages: int  # how many files it renders (a paginated listing renders several)


def pages_of(settings: dict, args: tuple, kwargs: dict) -> int:
    """How many files a write_file call renders, as Pelican's writer paginates it."""
    paginated = kwargs.get("paginated") if "paginated" in kwargs else (args[1] if len(args) > 1 else None)
    if paginated is None:
        paginated = {key: value for key, value in kwargs.items() if key in ("articles", "dates")}
    template_name = kwargs.get("template_name", args[2] if len(args) > 2 else None)
    if not paginated or template_name not in settings.get("PAGINATED_TEMPLATES", {}):
        return 1
    per_page = settings["PAGINATED_TEMPLATES"][template_name] or settings.get("DEFAULT_PAGINATION") or 0
    items = len(next(iter(paginated.values())))
    return max(1, math.ceil(items / per_page)) if per_page else 1


def shares_of(writes: list[Write], parts: int) -> list[list[Write]]:
    """The writes dealt out in order, each to the share with the fewest pages so far (ties: the first).

    Dealing, not cutting into consecutive runs, gives each share some of every kind of page (posts, tag
    listings, archives...), whose costs differ far more than their page counts say.
    """
    shares: list[list[Write]] = [[] for _ in range(parts)]
    loads = [0] * parts
    for write in writes:
        lightest = loads.index(min(loads))
        shares[lightest].append(write)
        loads[lightest] += write.pages
    return [share for share in shares if share]


def can_fork() -> bool:
    return hasattr(os, "fork") and threading.active_count() == 1


class _Capture(logging.Handler):
    """In a fork: every record, made picklable, kept to be handled again by the build's own handlers."""

    def __init__(self):
        super().__init__(logging.NOTSET)
        self.records: list[logging.LogRecord] = []

    def emit(self, record):
        if record.exc_info:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
            record.exc_info = None
        record.msg, record.args = record.getMessage(), None
        self.records.append(record)


def render(writer, writes: list[Write], workers: int) -> None:
    """Render the recorded writes: in order here when there is one core or little to do, else in runs."""
    parts = min(workers, max(1, sum(w.pages for w in writes) // MIN_FORKED_PAGES))
    if parts <= 1 or not can_fork():
        for write in writes:
            writer.write_now(write)
        return
    runs = shares_of(writes, parts)
    forks = [_start(_rendering(writer, run), run[0].context) for run in runs[1:]]
    for write in runs[0]:
        writer.write_now(write)
    context = runs[0][0].context
    for run, fork in zip(runs[1:], forks):
        result = _finish(fork, context)
        if result is None or not writer.take(result["value"]):
            # The fork failed, or wrote a file this process wrote too: its pages are rendered here, after
            # this process's own, exactly as a serial build renders them.
            for write in run:
                writer.write_now(write)
        else:
            _take(run[0].context, result)


def _rendering(writer, run: list[Write]):
    """In a fork: render the run; the writer's bookkeeping of what it wrote is the result."""

    def work():
        mark = writer.mark()
        for write in run:
            writer.write_now(write)
        return writer.additions(mark)

    return work


def fork_map(function, items: list, context: dict, workers: int) -> list:
    """[function(item) for item in items], the items dealt between this process and forks of it.

    For work that renders templates or writes files: a fork shares everything (nothing is pickled but the
    results), and its log records and register additions are taken here as the page renders' are. A fork
    that fails leaves its items to this process: slower, never different.
    """
    parts = min(workers, len(items))
    if parts <= 1 or not can_fork():
        return [function(item) for item in items]
    shares = [list(range(start, len(items), parts)) for start in range(parts)]
    forks = [_start(lambda share=share: [function(items[i]) for i in share], context) for share in shares[1:]]
    results: list = [None] * len(items)
    for index in shares[0]:
        results[index] = function(items[index])
    for share, fork in zip(shares[1:], forks):
        result = _finish(fork, context)
        if result is None:
            values = [function(items[i]) for i in share]
        else:
            _take(context, result)
            values = result["value"]
        for index, value in zip(share, values):
            results[index] = value
    return results


@dataclass
class _Fork:
    pid: int
    result_path: str


def _start(work: Callable[[], Any], context: dict) -> _Fork | None:
    handle, result_path = tempfile.mkstemp(prefix="vetrina-fork-", suffix=".pickle")
    os.close(handle)
    try:
        pid = os.fork()
    except OSError as error:
        logger.info("Could not fork (%s): this process does the work itself", error)
        os.unlink(result_path)
        return None
    if pid:
        return _Fork(pid, result_path)
    code = 1
    try:  # in the fork: do the work, write what it left behind, and leave without any cleanup of the build
        _run_forked(work, context, result_path)
        code = 0
    except BaseException:  # noqa: BLE001 - reported by the build, which does this work itself
        # The build does this work again and reports what fails there, once: the fork's traceback only
        # for a debug build (--debug), which may want to see why a fork, and not the build, failed.
        if logging.getLogger().isEnabledFor(logging.DEBUG):
            try:
                sys.stderr.write(traceback.format_exc())
            except Exception:  # noqa: BLE001
                pass
    finally:
        os._exit(code)


def _run_forked(work: Callable[[], Any], context: dict, result_path: str) -> None:
    capture = _Capture()
    for name in [None, *logging.root.manager.loggerDict]:
        target = logging.getLogger(name)
        if getattr(target, "handlers", None):
            target.handlers = []
    logging.root.addHandler(capture)
    marks = {name: register.start(context) for name, register in REGISTERS.items()}
    value = work()
    result = {"log": capture.records, "value": value,
              "registers": {name: REGISTERS[name].additions(context, mark) for name, mark in marks.items()}}
    with open(result_path, "wb") as handle:
        pickle.dump(result, handle, protocol=pickle.HIGHEST_PROTOCOL)


def _wait(pid: int, context: dict) -> int:
    """The fork's exit status; meanwhile the registers that have work for an idle process get to do it."""
    import time

    idle = [register.idle for register in REGISTERS.values() if register.idle is not None]
    while True:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            return status
        for work in idle:
            work(context)
        time.sleep(WAIT_STEP)


def _finish(fork: _Fork | None, context: dict) -> dict | None:
    if fork is None:
        return None
    try:
        status = _wait(fork.pid, context)
        if os.waitstatus_to_exitcode(status) != 0:
            logger.info("A fork failed: this process does its work itself")
            return None
        with open(fork.result_path, "rb") as handle:
            return pickle.load(handle)
    except (OSError, EOFError, pickle.UnpicklingError) as error:
        logger.info("A fork's result could not be read (%s): this process does its work itself", error)
        return None
    finally:
        try:
            os.unlink(fork.result_path)
        except OSError:
            pass


def _take(context: dict, result: dict) -> None:
    for name, additions in result["registers"].items():
        if name in REGISTERS:
            REGISTERS[name].merge(context, additions)
    for record in result["log"]:
        logging.getLogger(record.name).handle(record)


def on_both_cores(generator_class) -> None:
    """Make a generator class's generate_output record its writes and render them in runs (once per class)."""
    original = generator_class.generate_output
    if getattr(original, "renders_in_runs", False):
        return

    def generate_output(self, writer):
        from .parallel import workers_of

        workers = workers_of(self.settings)
        if workers <= 1 or not hasattr(writer, "record_writes"):
            return original(self, writer)
        writer.record_writes()
        try:
            original(self, writer)
        except BaseException:
            writer.drop_recorded()
            raise
        writer.render_recorded(workers)

    generate_output.renders_in_runs = True
    generate_output.__doc__ = original.__doc__
    generator_class.generate_output = generate_output


def render_before_finalized(generator, writer) -> None:
    """article_writer_finalized and page_writer_finalized promise written pages: render the recorded ones first.

    Connected at the core plugin's registration, so before the receivers of plugins listed after it."""
    from .parallel import workers_of

    if hasattr(writer, "render_recorded"):
        writer.render_recorded(workers_of(generator.settings))


def images_register(key: str) -> None:
    """The responsive images a fork's pages asked for, asked for again here (the copies are made here)."""

    def start(context):
        images = context[key]
        if images.sidecar is not None:
            images.sidecar.left_to_parent()  # the fork never talks to this process's side worker
            images.sidecar = None
        return len(images.requested)

    def additions(context, mark):
        return list(context[key].requested)[mark:]

    def merge(context, sources):
        for src in sources:
            context[key].sources(src)

    def idle(context):
        sidecar = context[key].sidecar
        if sidecar is not None:
            sidecar.exchange()  # keep the side worker encoding while this process waits

    accumulates("responsive images", start, additions, merge, idle)

    def begin_trail(context):
        context[key].trail = []

    def end_trail(context, mark):
        trail, context[key].trail = context[key].trail, None
        return trail

    from . import rendercache

    rendercache.leaves_behind("responsive images", begin_trail, end_trail, merge)
