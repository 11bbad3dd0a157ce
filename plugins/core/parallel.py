"""Both cores: Markdown conversions and image encodings run in a pool of worker processes.

Workers only compute (HTML and raw metadata, WebP files); everything that logs, checks or builds
Pelican objects stays in the build's own process, so a parallel build reports and writes exactly what
a serial one does. A worker that fails on a file returns None for it and the build reads that file
itself, with the usual error message.
"""

from __future__ import annotations

import logging
import math
import multiprocessing
import os
import site
import sys
import threading
import weakref
from collections import deque
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool

from pelican.readers import MarkdownReader
from pelican.utils import pelican_open

from .settings import SiteConfigurationError

WORKERS_SETTING = "SITE_WORKERS"
# Below this much Markdown (bytes) starting a pool costs more than it saves; the build converts it itself.
MIN_POOL_BYTES = 64 * 1024
CHUNKS_PER_WORKER = 4

logger = logging.getLogger(__name__)


def workers_of(settings) -> int:
    """SITE_WORKERS checked: a whole number of at least 1 (1 = serial); None = the machine's CPU count."""
    value = settings.get(WORKERS_SETTING)
    if value is None:
        return os.cpu_count() or 1
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise SiteConfigurationError(f"{WORKERS_SETTING} must be a whole number of at least 1 (1 builds on one "
                                     f"core), not {value!r}")
    return value


def _context(function):
    """fork while this process runs one thread (cheap: nothing to import again); else a fork server."""
    methods = multiprocessing.get_all_start_methods()
    if "fork" in methods and threading.active_count() == 1:
        return multiprocessing.get_context("fork")
    if "forkserver" in methods:
        context = multiprocessing.get_context("forkserver")
        # The server imports the worker's module once (never the build's __main__); each pool forks from it.
        context.set_forkserver_preload([function.__module__])
        return context
    return multiprocessing.get_context("spawn")


def _import_root(function) -> str:
    """The folder a new process needs on sys.path to import function (Pelican's PLUGIN_PATHS are not kept there)."""
    package = sys.modules[function.__module__.partition(".")[0]]
    path = os.path.dirname(os.path.abspath(package.__file__))
    return os.path.dirname(path) if os.path.basename(package.__file__) == "__init__.py" else path


def map_chunks(function, shared, items: list, workers: int) -> list:
    """[function(shared, chunk) results, concatenated]: chunks of items in a pool, results in item order.

    A pool that cannot start or loses a worker leaves the work to this process: slower, never different.
    """
    if not items:
        return []
    if workers <= 1 or len(items) == 1:
        return list(function(shared, items))
    size = max(1, math.ceil(len(items) / (workers * CHUNKS_PER_WORKER)))
    chunks = [items[i:i + size] for i in range(0, len(items), size)]
    try:
        with ProcessPoolExecutor(min(workers, len(chunks)), mp_context=_context(function),
                                 initializer=site.addsitedir, initargs=(_import_root(function),)) as pool:
            results = list(pool.map(function, [shared] * len(chunks), chunks))
    except (BrokenProcessPool, OSError) as error:
        logger.info("The worker processes stopped (%s): this process does their work", error)
        return list(function(shared, items))
    return [result for chunk in results for result in chunk]


_INHERITED: dict[int, object] = {}  # objects forked workers read instead of receiving them pickled


def map_inherited(function, shared, items: list, workers: int) -> list:
    """map_chunks for a shared object too big to pickle for each chunk: forked workers inherit it.

    Without fork (or with other threads running) this process does the work itself: same results.
    """
    if workers <= 1 or "fork" not in multiprocessing.get_all_start_methods() or threading.active_count() != 1:
        return list(function(shared, items))
    token = id(shared)
    _INHERITED[token] = shared
    try:
        return map_chunks(_call_inherited, (function, token), items, workers)
    finally:
        del _INHERITED[token]


def _call_inherited(spec, chunk: list) -> list:
    function, token = spec
    return function(_INHERITED[token], chunk)


# Jobs handed to the side worker before it answers: enough to keep it busy, never enough to fill a pipe.
SIDECAR_IN_FLIGHT = 2
SIDECAR_PATIENCE = 1.0  # seconds between two checks, by an idle side worker, that its build still runs


class Sidecar:
    """A second core for work that turns up while this process renders: one worker process, started early.

    Started while the build is still small (a fork then copies little), it runs function(None, [job]) for
    each job submitted, in order, as this process goes on with its own work; finish() shares what is left
    between both and returns every result by key. A worker that cannot start or dies leaves its jobs to this
    process: slower, never different.
    """

    def __init__(self, function):
        self.function = function
        self.waiting: deque = deque()  # (key, job) not handed over yet
        self.sent: deque = deque()  # (key, job) handed over, answered in this order
        self.results: dict = {}
        self.connection = None
        try:
            context = _context(function)
            ours, theirs = context.Pipe()
            process = context.Process(target=_sidecar_loop, daemon=True, name="vetrina-sidecar",
                                      args=(function, theirs, ours, os.getpid(), _import_root(function)))
            process.start()
            theirs.close()
        except OSError as error:
            logger.info("The side worker could not start (%s): this process does its work", error)
            return
        self.connection, self.process = ours, process
        self._stop = weakref.finalize(self, _stop_sidecar, ours, process)

    def submit(self, key, job) -> None:
        self.waiting.append((key, job))
        self.exchange()

    def exchange(self, wait: bool = False) -> None:
        """Collect the answers that are in (waiting for one if asked), then top the worker's jobs up."""
        if self.connection is None:
            return
        try:
            while self.sent and self.connection.poll(None if wait else 0):
                result = self.connection.recv()  # before the job leaves `sent`: a lost answer is redone here
                self.results[self.sent.popleft()[0]] = result
                wait = False
            while self.waiting and len(self.sent) < SIDECAR_IN_FLIGHT:
                item = self.waiting.popleft()
                self.connection.send(item[1])
                self.sent.append(item)
        except (OSError, EOFError) as error:
            logger.info("The side worker stopped (%s): this process does its work", error)
            self.waiting.extendleft(reversed(self.sent))
            self.sent.clear()
            self.close()

    def finish(self) -> dict:
        """Every job's result by key: this process takes jobs from the back while the worker works from the front."""
        while self.waiting or self.sent:
            self.exchange()
            if self.waiting:
                key, job = self.waiting.pop()
                self.results[key] = self.function(None, [job])[0]
            elif self.sent:
                self.exchange(wait=True)
        self.close()
        return self.results

    def left_to_parent(self) -> None:
        """In a fork of this process: forget the worker without stopping it (it is the parent's)."""
        self._stop.detach()
        self.connection = None
        self.waiting.clear()
        self.sent.clear()

    def close(self) -> None:
        if self.connection is not None:
            self.connection = None
            self._stop()


def _sidecar_loop(function, connection, parents_end, parent: int, root: str) -> None:
    parents_end.close()  # this process's copy of the build's end: closed, the build's death ends the pipe
    site.addsitedir(root)
    while True:
        try:
            while not connection.poll(SIDECAR_PATIENCE):
                if os.getppid() != parent:
                    return  # the build was killed: nobody waits for these copies
            job = connection.recv()
        except (EOFError, OSError):
            return
        if job is None:
            return
        connection.send(function(None, [job])[0])


def _stop_sidecar(connection, process) -> None:
    try:
        connection.send(None)
        connection.close()
    except OSError:
        pass
    process.join(5)
    if process.is_alive():
        process.terminate()
        process.join()


def worth_a_pool(paths, workers: int) -> bool:
    """Whether these files are enough Markdown for a pool to pay for its start."""
    if workers <= 1 or len(paths) < 2:
        return False
    total = 0
    for path in paths:
        try:
            total += os.path.getsize(path)
        except OSError:
            continue
        if total >= MIN_POOL_BYTES:
            return True
    return False


def reset_converter(converter) -> None:
    """A reused converter starts each file afresh; Meta too, where no meta extension resets it."""
    converter.reset()
    converter.Meta = {}


def convert_markdown_files(markdown_config: dict, paths: list) -> list:
    """(HTML, raw Meta) of each Markdown file as Pelican reads it, or None for a file that fails here."""
    import markdown

    converter = markdown.Markdown(**markdown_config)
    results = []
    for path in paths:
        try:
            reset_converter(converter)
            with pelican_open(path) as text:
                html = converter.convert(text)
            results.append((html, {name: list(values) for name, values in converter.Meta.items()}))
        except Exception:  # noqa: BLE001 - the build reads this file itself and reports its error
            results.append(None)
    return results


class PreparedMarkdownReader(MarkdownReader):
    """Pelican's Markdown reader, taking the conversions the pool made beforehand when it has them."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.prepared: dict[str, tuple[str, dict]] = {}  # absolute path -> (HTML, raw Meta)
        self.preread_done = False
        self._metadata_md = None
        self._meta_step = None

    def read(self, source_path):
        prepared = self.prepared.pop(source_path, None)
        if prepared is None:
            return super().read(source_path)
        content, meta = prepared
        self._source_path = source_path
        self._md = self._metadata_converter()
        return content, self._parse_metadata(meta)

    def _metadata_converter(self):
        """One converter for _parse_metadata (which unregisters 'meta' and converts FORMATTED_FIELDS)."""
        import markdown

        if self._metadata_md is None:
            self._metadata_md = markdown.Markdown(**self.settings["MARKDOWN"])
            self._meta_step = self._metadata_md.preprocessors["meta"]
        elif "meta" not in self._metadata_md.preprocessors:
            # Only ever unregistered again before a conversion: its priority plays no part.
            self._metadata_md.preprocessors.register(self._meta_step, "meta", 27)
        return self._metadata_md


def use_prepared_reader(readers) -> None:
    """readers_init: Pelican's own Markdown reader becomes the one that takes prepared conversions."""
    for extension, reader_class in list(readers.reader_classes.items()):
        if reader_class is MarkdownReader:
            readers.reader_classes[extension] = PreparedMarkdownReader


def _needs_reading(generator, relative: str, absolute: str) -> bool:
    if generator.settings["CONTENT_CACHING_LAYER"] == "generator" and hasattr(generator, "_cache"):
        if generator.get_cached_data(relative, None) is not None:
            return False
    return generator.readers.get_cached_data(absolute, None) is None


def preread(generator, kind: str) -> int:
    """Convert, in the pool, every Markdown file of a posts or pages generator that its cache lacks.

    Runs at the generator's first read (Pelican's *_generator_preread signal), once; returns how many
    files were converted. Pelican's serial read then takes each prepared result (and caches it).
    """
    readers = generator.readers
    mine = {ext: reader for ext, reader in readers.readers.items() if isinstance(reader, PreparedMarkdownReader)}
    if not mine or any(reader.preread_done for reader in mine.values()):
        return 0
    for reader in mine.values():
        reader.preread_done = True
    workers = workers_of(generator.settings)
    if workers <= 1:
        return 0
    settings = generator.settings
    stale = []
    for relative in sorted(generator.get_files(settings[f"{kind}_PATHS"], exclude=settings[f"{kind}_EXCLUDES"])):
        extension = os.path.splitext(relative)[1][1:]
        absolute = os.path.abspath(os.path.join(generator.path, relative))
        if extension in mine and _needs_reading(generator, relative, absolute):
            stale.append((extension, absolute))
    if not worth_a_pool([path for _, path in stale], workers):
        return 0
    config = next(iter(mine.values())).settings["MARKDOWN"]
    results = map_chunks(convert_markdown_files, config, [path for _, path in stale], workers)
    converted = 0
    for (extension, path), result in zip(stale, results):
        if result is not None:
            mine[extension].prepared[path] = result
            converted += 1
    return converted
