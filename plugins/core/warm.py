"""Warm rebuilds for `serve`: one Pelican process kept between builds, and a staging folder swapped in on success.

The process keeps what a fresh one would pay again on every save: the imports, and the compiled templates
(a Jinja bytecode cache handed to each generator's environment, checked against each template's source).
Pelican's content cache (CACHE_CONTENT) spares the reading. Each build goes into a new staging folder; its
files that are byte-identical to the served ones are replaced by hard links to them, so unchanged files keep
their inode and modification time, and the folder is swapped in only when the build reported no problem.
A change to the plugins or the settings starts a new process.
"""

from __future__ import annotations

import argparse
import filecmp
import json
import logging
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

from jinja2 import BytecodeCache

REPLY_FD_ARGUMENT = "--replies"


def link_unchanged(staging: Path, current: Path) -> int:
    """Replace each file of staging that is byte-identical to the one at the same place in current by a hard
    link to it; returns how many were linked. A file that cannot be linked stays a copy."""
    staging, current = Path(staging), Path(current)
    if not current.is_dir():
        return 0
    linked = 0
    for folder, _, files in os.walk(staging):
        for name in files:
            built = Path(folder) / name
            served = current / built.relative_to(staging)
            try:
                if served.is_file() and os.path.samefile(served, built):
                    linked += 1  # already a link to it (a page the build kept, core.rendercache)
                    continue
                if (not served.is_file() or served.is_symlink() or built.is_symlink()
                        or served.stat().st_size != built.stat().st_size
                        or not filecmp.cmp(served, built, shallow=False)):
                    continue
                partial = built.with_name(f".{name}.link")
                os.link(served, partial)
                os.replace(partial, built)
            except OSError:
                continue  # no hard links here (or a file that vanished): the new copy is as good
            linked += 1
    return linked


class TemplateBytecode(BytecodeCache):
    """Compiled templates kept in memory for the life of the build process (Jinja checks each source's checksum)."""

    def __init__(self):
        self.compiled: dict[str, bytes] = {}

    def load_bytecode(self, bucket) -> None:
        if bucket.key in self.compiled:
            bucket.bytecode_from_string(self.compiled[bucket.key])

    def dump_bytecode(self, bucket) -> None:
        self.compiled[bucket.key] = bucket.bytecode_to_string()


class KeptProcess:
    """The worker's side: builds one after another in this process, each with its own list of problems."""

    def __init__(self, content: str, settings_file: str, overrides: dict):
        from pelican import signals

        self.content, self.settings_file, self.overrides = content, os.path.abspath(settings_file), overrides
        self.bytecode = TemplateBytecode()
        signals.generator_init.connect(self.share_templates)
        from .preview import LastBuild

        self.last = LastBuild()

    def share_templates(self, generator) -> None:
        """Every generator's environment reads and fills the same compiled templates."""
        environment = getattr(generator, "env", None)
        if environment is not None:
            environment.bytecode_cache = self.bytecode

    def build(self, output: str, reuse: str | None = None) -> bool:
        """One build into output, reported as core.runner reports it; True when nothing was warned about."""
        from pelican.log import LimitFilter

        from . import runner
        from .rendercache import REUSE_SETTING

        collector = runner.Collector()
        root_logger = logging.getLogger()
        for handler in list(root_logger.handlers):
            root_logger.removeHandler(handler)
        root_logger.addHandler(collector)
        # Pelican de-duplicates log messages for the whole process: each build reports its own.
        LimitFilter._ignore.clear()
        LimitFilter._raised_messages.clear()
        LimitFilter._group_count.clear()
        overrides = {"PATH": os.path.abspath(self.content), "OUTPUT_PATH": os.path.abspath(output), **self.overrides}
        if reuse:
            overrides[REUSE_SETTING] = os.path.abspath(reuse)
        runner.build_once(collector, self.settings_file, overrides)
        succeeded = runner.print_report(collector, os.getcwd())
        self.last.finished(succeeded)
        sys.stderr.flush()
        sys.stdout.flush()
        return succeeded

    def preview(self, paths: list[str], output: str) -> list[str]:
        """The changed posts and pages rendered at once into the served folder (core.preview)."""
        root_logger = logging.getLogger()
        handlers = list(root_logger.handlers)
        for handler in handlers:  # what a preview logs is the whole build's to report
            root_logger.removeHandler(handler)
        level, root_logger.level = root_logger.level, logging.WARNING
        try:
            return self.last.preview(paths, output)
        finally:
            root_logger.level = level
            for handler in handlers:
                root_logger.addHandler(handler)


def worker_main(argv=None) -> int:
    """python -m core.warm CONTENT -s SETTINGS --replies FD: one build per line read, one JSON answer per build."""
    parser = argparse.ArgumentParser(prog="python -m core.warm")
    parser.add_argument("content")
    parser.add_argument("-s", "--settings", required=True)
    parser.add_argument(REPLY_FD_ARGUMENT, type=int, required=True)
    parser.add_argument("--overrides", default="{}")
    args = parser.parse_args(argv)
    from pelican.log import init as init_logging

    init_logging(level=logging.WARNING, handler=None, logs_dedup_min_level=logging.INFO)
    kept = KeptProcess(args.content, args.settings, json.loads(args.overrides))
    try:
        with os.fdopen(args.replies, "w", encoding="utf-8") as replies:
            for line in sys.stdin:
                request = json.loads(line)
                if "preview" in request:
                    answer = {"ok": True, "written": kept.preview(request["preview"], request["output"])}
                else:
                    answer = {"ok": kept.build(request["output"], request.get("reuse"))}
                replies.write(json.dumps(answer) + "\n")
                replies.flush()
    except (KeyboardInterrupt, BrokenPipeError):
        return 130  # Ctrl+C reaches the whole dev server, or the server went away: nothing to report
    return 0


class WarmBuilder:
    """The server's side: asks the kept process for a build; a process that died is replaced at the next build."""

    def __init__(self, root: Path, settings: Path, content: Path, overrides: dict | None = None):
        self.root, self.settings, self.content = Path(root), Path(settings), Path(content)
        self.overrides = overrides or {}
        self.process: subprocess.Popen | None = None
        self.replies = None

    def start(self) -> None:
        from .build import build_environment

        read_end, write_end = os.pipe()
        command = [sys.executable, "-m", "core.warm", str(self.content), "-s", str(self.settings),
                   REPLY_FD_ARGUMENT, str(write_end), "--overrides", json.dumps(self.overrides)]
        try:
            self.process = subprocess.Popen(command, cwd=self.root, stdin=subprocess.PIPE, pass_fds=(write_end,),
                                            env=build_environment(), text=True)
        finally:
            os.close(write_end)
        self.replies = os.fdopen(read_end, "r", encoding="utf-8")

    def __call__(self, output: Path, reuse: Path | None = None) -> bool:
        """Build into output (a new staging folder), linking reuse's unchanged pages; True when the build
        reported no problem."""
        answer = self._ask({"output": str(output), "reuse": str(reuse) if reuse else None})
        if answer is None:
            print("The build process stopped before the build was finished: the served site is unchanged; "
                  "the next build starts a new one", file=sys.stderr)
            return False
        return bool(answer["ok"])

    def preview(self, paths: list[str], output: Path) -> list[str]:
        """The changed posts and pages rendered at once into the served output; the files written. Only a
        process that already built has a preview to give."""
        if self.process is None or self.process.poll() is not None:
            return []
        answer = self._ask({"preview": list(paths), "output": str(output)})
        return list(answer.get("written", [])) if answer else []

    def _ask(self, request: dict) -> dict | None:
        if self.process is None or self.process.poll() is not None:
            self.stop()
            self.start()
        try:
            self.process.stdin.write(json.dumps(request) + "\n")
            self.process.stdin.flush()
            answer = self.replies.readline()
        except (BrokenPipeError, OSError, ValueError):
            answer = ""
        if not answer:
            self.stop()
            return None
        return json.loads(answer)

    @property
    def pid(self) -> int | None:
        return self.process.pid if self.process is not None and self.process.poll() is None else None

    def stop(self) -> None:
        """End the kept process (it stops when its input closes); the next build starts a new one."""
        process, self.process = self.process, None
        if self.replies is not None:
            self.replies.close()
            self.replies = None
        if process is None:
            return
        try:
            process.stdin.close()
        except OSError:
            pass
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


class DevBuilds:
    """`serve`'s builds: warm, staged next to output, unchanged files hard-linked, swapped in only on success."""

    def __init__(self, root: Path, settings: Path, output: Path, content: Path, overrides: dict | None = None):
        self.root, self.settings, self.output, self.content = Path(root), Path(settings), Path(output), Path(content)
        self.builder = WarmBuilder(root, settings, content, overrides)
        self.last: tuple[int, int] | None = None  # (files written, files unchanged) of the last good build
        self.sources: dict[str, int] | None = None  # the posts' and pages' sources as the last build read them
        self.previewed: list[str] = []  # the files the last build's preview made live before it

    def build(self, on_preview=None) -> bool:
        """A build; when only a few posts or pages changed since the last one, their own pages first, live at
        once (on_preview is then called: the browsers reload), the whole build swapped in after."""
        from .build import build_site
        from .preview import changed_sources, snapshot

        started = time.monotonic()
        counted = {}
        sources = snapshot(self.content)
        self.previewed = []
        if self.sources is not None and self.output.is_dir():
            self.previewed = written = self.builder.preview(changed_sources(self.sources, sources), self.output)
            if written:
                print(f"Preview in {time.monotonic() - started:.1f} s: {', '.join(written[:3])}"
                      f"{' ...' if len(written) > 3 else ''}; building the rest", flush=True)
                if on_preview is not None:
                    on_preview()
        self.sources = sources

        def link(staging: Path) -> None:
            counted["linked"] = link_unchanged(staging, self.output)
            counted["files"] = sum(len(files) for _, _, files in os.walk(staging))

        def run(staging: Path) -> bool:
            return self.builder(staging, self.output if self.output.is_dir() else None)

        if not build_site(self.root, self.settings, self.output, self.content, run=run, then=link):
            print("Build failed: the served site is unchanged. Fix the problems listed above.", file=sys.stderr)
            return False
        self.last = (counted["files"] - counted["linked"], counted["linked"])
        print(f"Built in {time.monotonic() - started:.1f} s: {self.last[0]} files written, "
              f"{self.last[1]} unchanged", flush=True)
        return True

    def reload(self, on_preview=None) -> bool:
        """The plugins or the settings changed: a new build process, then a build (no preview: the new
        process has no last build to render one with)."""
        self.builder.stop()
        return self.build(on_preview)

    def close(self) -> None:
        self.builder.stop()


class BuildLoop:
    """The server's builds, one at a time on a thread of their own, so the pages are served while one runs.

    A save during a build asks for one more after it (saves in between are one build); a change to the code
    restarts the build process first. The browsers reload when a preview is live and when a build is in.
    """

    def __init__(self, builds: DevBuilds, reload_browsers):
        self.builds, self.reload_browsers = builds, reload_browsers
        self.lock = threading.Lock()
        self.wanted = self.restart = self.running = False

    def request(self, restart: bool = False) -> None:
        with self.lock:
            self.wanted = True
            self.restart = self.restart or restart
            if self.running:
                return
            self.running = True
        threading.Thread(target=self._run, name="vetrina-builds", daemon=True).start()

    def _run(self) -> None:
        while True:
            with self.lock:
                if not self.wanted:
                    self.running = False
                    return
                restart, self.wanted, self.restart = self.restart, False, False
            build = self.builds.reload if restart else self.builds.build
            try:
                if build(on_preview=self.reload_browsers):
                    self.reload_browsers()
            except Exception as error:  # noqa: BLE001 - the server goes on; the next save builds again
                print(f"The build could not run ({error}): the served site is unchanged", file=sys.stderr)


def watch_and_serve(builds: DevBuilds, host: str, port: int, code: tuple[Path, ...], pages: tuple[Path, ...]) -> None:
    """Serve builds.output with live reload: a change under pages rebuilds, one under code reloads first."""
    from livereload import Server
    from livereload.handlers import LiveReloadHandler
    from tornado.ioloop import IOLoop

    server = Server()
    loops = []

    def reload_browsers() -> None:  # from the builds' thread: the server's loop sends the message
        if loops:
            loops[0].add_callback(LiveReloadHandler.reload_waiters)

    building = BuildLoop(builds, reload_browsers)

    def changed(restart: bool):
        def task():
            if not loops:
                loops.append(IOLoop.current())
            building.request(restart)
        return task

    # "forever": livereload itself never reloads the browsers; the builds do, when there is something to see.
    for path in pages:
        server.watch(str(path), changed(False), delay="forever")
    for path in code:
        server.watch(str(path), changed(True), delay="forever")
    server.serve(host=host, port=int(port), root=str(builds.output), open_url_delay=None)


def serve_main(argv=None) -> int:
    """python -m core.warm serve CONTENT -s SETTINGS -o OUTPUT --port N: build, then serve with live reload
    (no comments server: the bench's way to time a save until its page is live)."""
    parser = argparse.ArgumentParser(prog="python -m core.warm serve")
    parser.add_argument("content")
    parser.add_argument("-s", "--settings", required=True)
    parser.add_argument("-o", "--output", required=True)
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--root", default=os.getcwd())
    args = parser.parse_args(argv)
    builds = DevBuilds(Path(args.root), Path(args.settings), Path(args.output), Path(args.content))
    try:
        if not builds.build():
            return 1
        print(f"Serving on http://127.0.0.1:{args.port}/", flush=True)
        watch_and_serve(builds, "127.0.0.1", args.port, code=(), pages=(Path(args.content),))
    except KeyboardInterrupt:
        return 130
    finally:
        builds.close()
    return 0


if __name__ == "__main__":
    sys.exit(serve_main(sys.argv[2:]) if sys.argv[1:2] == ["serve"] else worker_main())
