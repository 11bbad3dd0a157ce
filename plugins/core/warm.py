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
        sys.stderr.flush()
        sys.stdout.flush()
        return succeeded


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
                ok = kept.build(request["output"], request.get("reuse"))
                replies.write(json.dumps({"ok": ok}) + "\n")
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
        if self.process is None or self.process.poll() is not None:
            self.stop()
            self.start()
        try:
            self.process.stdin.write(json.dumps({"output": str(output), "reuse": str(reuse) if reuse else None}) + "\n")
            self.process.stdin.flush()
            answer = self.replies.readline()
        except (BrokenPipeError, OSError, ValueError):
            answer = ""
        if not answer:
            print("The build process stopped before the build was finished: the served site is unchanged; "
                  "the next build starts a new one", file=sys.stderr)
            self.stop()
            return False
        return bool(json.loads(answer)["ok"])

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

    def build(self) -> bool:
        from .build import build_site

        started = time.monotonic()
        counted = {}

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

    def reload(self) -> bool:
        """The plugins or the settings changed: a new build process, then a build."""
        self.builder.stop()
        return self.build()

    def close(self) -> None:
        self.builder.stop()


def watch_and_serve(builds: DevBuilds, host: str, port: int, code: tuple[Path, ...], pages: tuple[Path, ...]) -> None:
    """Serve builds.output with live reload: a change under pages rebuilds, one under code reloads first."""
    from livereload import Server

    server = Server()
    for path in pages:
        server.watch(str(path), builds.build, delay=0.5)
    for path in code:
        server.watch(str(path), builds.reload, delay=0.5)
    server.serve(host=host, port=int(port), root=str(builds.output), open_url_delay=None)


if __name__ == "__main__":
    sys.exit(worker_main())
