"""Both cores for writing: the pages of a generator rendered by this process and forked copies of it.

While a posts, pages or products generator writes its output, the build's writer (integrity.OutputGuard)
records each write instead of rendering it. When the generator is done, this process and a fork of it for
each other core render them, each taking the next claim of writes left as soon as it is free. A fork
shares everything the templates read (nothing is pickled there) and sends back only what its pages left
behind: the log records, the files it claimed, and each accumulating register's additions (the sitemap's
entries, the images asked for...), which this process then takes.

Plugins declare such a register with `accumulates(name, start, additions, merge)`; its result must not
depend on the order pages were written in (the sitemap sorts its entries). A fork that fails, or that
wrote a file this process wrote too, leaves the writes it took to this process, rendered after its own: slower,
never different. No fork without os.fork, with other threads running, or with SITE_WORKERS = 1.
"""

from __future__ import annotations

import logging
import math
import mmap
import os
import pickle
import struct
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


# At most this many claims in one render: their numbers fit in any pipe's buffer, written before any is taken.
MAX_CLAIMS = 1024
_CLAIM = struct.Struct("<I")


def claims_of(writes: list[Write]) -> list[list[int]]:
    """The writes' indexes in claims, the biggest first: each claim one write or some of the smallest.

    Taken in this order, a long listing is begun early and the last claims are small, so the processes that
    share them finish within a few pages of each other. A claim holds at least 1/MAX_CLAIMS of the pages.
    """
    order = sorted(range(len(writes)), key=lambda index: -writes[index].pages)
    least = max(1, math.ceil(sum(write.pages for write in writes) / MAX_CLAIMS))
    claims: list[list[int]] = []
    held = least
    for index in order:
        if held >= least:
            claims.append([])
            held = 0
        claims[-1].append(index)
        held += writes[index].pages
    return claims


class _Claims:
    """Claims taken by the processes that render them, each taking the next one left when it is free.

    The claims' numbers wait in a pipe, all written before the forks start (a read of four bytes takes one,
    whole, from whichever process reads); who took which is written in memory shared with the forks, so that
    the claims of a fork that dies are known, and rendered here.
    """

    NOBODY = 0

    def __init__(self, count: int):
        self.owners = mmap.mmap(-1, count)  # shared with the forks: 0, or the number + 1 of who took a claim
        self._read, write = os.pipe()
        os.set_blocking(self._read, False)
        os.write(write, b"".join(_CLAIM.pack(number) for number in range(count)))
        os.close(write)

    def taken_by(self, process: int):
        """The numbers of the claims this process takes, one at a time, as long as some are left."""
        while True:
            try:
                data = os.read(self._read, _CLAIM.size)
            except BlockingIOError:
                return
            if len(data) != _CLAIM.size:
                return
            number = _CLAIM.unpack(data)[0]
            self.owners[number] = process + 1
            yield number

    def owned_by(self, processes: set[int]) -> list[int]:
        """The claims taken by these processes, or by none that is known (one died taking it), in order."""
        owners = {self.NOBODY, *(process + 1 for process in processes)}
        return [number for number in range(len(self.owners)) if self.owners[number] in owners]

    def close(self) -> None:
        os.close(self._read)
        self.owners.close()


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
    """Render the recorded writes: in order here when there is one core or little to do, else shared out.

    This process and a fork for each other core take the writes claim by claim (claims_of) until none is
    left. What a fork leaves behind is taken here; a fork that fails leaves the claims it took to this
    process, rendered after its own in the writes' order, as is a fork's run that wrote a file this process
    wrote too. Two writes of one file among these are rendered here in order: the second is reported, as in
    a serial build.
    """
    parts = min(workers, max(1, sum(w.pages for w in writes) // MIN_FORKED_PAGES))
    names = [write.name for write in writes]
    if parts <= 1 or not can_fork() or len(set(names)) != len(names):
        for write in writes:
            writer.write_now(write)
        return
    claims, context = claims_of(writes), writes[0].context

    def render_claims(taken, forked: bool) -> tuple | None:
        mark = writer.mark() if forked else None
        for number in taken:
            for index in claims[number]:
                writer.write_now(writes[index])
        return writer.additions(mark) if forked else None  # a fork's files, told to this process

    def keep(result: dict) -> bool:
        if not writer.take(result["value"]):
            return False
        _take(context, result)
        return True

    left = _in_turns(len(claims), parts, context, render_claims, keep)
    # Rendered here after this process's own, as in a serial build: what a fork could not give back.
    for index in sorted(index for number in left for index in claims[number]):
        writer.write_now(writes[index])


def fork_map(function, items: list, context: dict, workers: int) -> list:
    """[function(item) for item in items], the items taken in turn by this process and forks of it.

    For work that renders templates or writes files: a fork shares everything (nothing is pickled but the
    results), and its log records and register additions are taken here as the page renders' are. Each
    process takes the next run of items left as soon as it is free; a fork that fails leaves the items it
    took to this process: slower, never different.
    """
    parts = min(workers, len(items))
    if parts <= 1 or not can_fork():
        return [function(item) for item in items]
    size = math.ceil(len(items) / MAX_CLAIMS)
    runs = [range(start, min(start + size, len(items))) for start in range(0, len(items), size)]
    results: dict = {}

    def map_claims(taken, forked: bool = False) -> dict:
        done = {index: function(items[index]) for number in taken for index in runs[number]}
        if not forked:
            results.update(done)
        return done

    def keep(result: dict) -> bool:
        _take(context, result)
        results.update(result["value"])
        return True

    for number in _in_turns(len(runs), parts, context, map_claims, keep):
        map_claims([number])
    return [results[index] for index in range(len(items))]


def _in_turns(count: int, parts: int, context: dict, work, keep) -> list[int]:
    """Claims 0 to count - 1 taken in turn by this process and parts - 1 forks of it, each as it is free.

    work(claim numbers, forked) does the claims a process takes; in a fork it returns what the fork leaves
    behind (pickled back), and keep(the fork's result) takes that here, or refuses it (False). Returns, in
    order, the claims of the forks that failed or were refused, and any claim a fork died holding: the
    caller does those itself.
    """
    shared = _Claims(count)
    try:
        forks = [_start(lambda process=process: work(shared.taken_by(process), True), context)
                 for process in range(1, parts)]
        work(shared.taken_by(0), False)
        failed = set()
        for process, fork in enumerate(forks, 1):
            result = _finish(fork, context)
            if result is None or not keep(result):
                failed.add(process)
        return shared.owned_by(failed)
    finally:
        shared.close()


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
