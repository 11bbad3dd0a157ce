"""Build plumbing for the tasks: run Pelican, and swap a new build in only when it succeeded."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path


PLUGINS = Path(__file__).resolve().parents[1]


def run_pelican(root: Path, settings: Path, output: Path, content: Path, debug: bool = False,
                reuse: Path | None = None) -> bool:
    """Build content into output from the project root; True when nothing was warned about.

    The build runs to the end and prints every problem in one block (core.runner); debug adds Pelican's
    debug output and the tracebacks. reuse: the last finished build, whose unchanged pages are linked.
    """
    command = [sys.executable, "-m", "core.runner", str(content), "-s", str(settings), "-o", str(output)]
    if debug:
        command.append("--debug")
    if reuse is not None and Path(reuse).is_dir():
        command += ["--reuse", str(reuse)]
    return subprocess.run(command, cwd=root, env=build_environment()).returncode == 0


def build_environment(environ=None, plugins: Path = PLUGINS) -> dict:
    """The environment of a build process: this one's, with the plugins folder first on PYTHONPATH."""
    environ = os.environ if environ is None else environ
    path = [str(plugins), *filter(None, environ.get("PYTHONPATH", "").split(os.pathsep))]
    return {**environ, "PYTHONPATH": os.pathsep.join(path)}


def staging_prefix(output: Path) -> str:
    return f".{output.name}-building-"


def _owner_alive(name: str, prefix: str) -> bool:
    """Whether the build that made staging folder `name` (prefix + pid + "-" + random) is still running."""
    pid, _, _ = name[len(prefix):].partition("-")
    if not pid.isdigit():
        return False  # made before staging folders carried their builder's pid: nothing builds there now
    return pid_alive(int(pid))


def pid_alive(pid: int) -> bool:
    """Whether a process of this machine has that pid."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # a process of another user
    except (OverflowError, ValueError):
        return False
    return True


def remove_stale_staging(output: Path) -> list[Path]:
    """Remove the staging folders next to output that a killed earlier build left; those of running builds stay."""
    output = Path(output)
    prefix = staging_prefix(output)
    if not output.parent.is_dir():
        return []
    stale = [path for path in output.parent.iterdir()
             if path.name.startswith(prefix) and path.is_dir() and not _owner_alive(path.name, prefix)]
    for path in stale:
        shutil.rmtree(path, ignore_errors=True)
    return stale


def build_site(root: Path, settings: Path, output: Path, content: Path, accept=None, debug: bool = False,
               then=None, run=None) -> bool:
    """Build into a fresh folder and swap it in only on success, so a failed build keeps the last good site.

    accept: an optional test of the new build's folder (the checks) that must also pass before the swap.
    then: an optional action on that same checked folder (the upload), run before the swap. The folder is this
    build's own, so what `then` gets is exactly what `accept` passed, even if another build replaces output/
    meanwhile. When it raises, the folder is removed, output/ stays as it was and the error propagates.
    run: an optional builder of the folder (True on success) instead of a new Pelican process (serve's warm one).
    """
    output = Path(output)
    output.parent.mkdir(parents=True, exist_ok=True)
    remove_stale_staging(output)
    staging = Path(tempfile.mkdtemp(prefix=f"{staging_prefix(output)}{os.getpid()}-", dir=output.parent))
    try:
        built = run(staging) if run is not None else run_pelican(root, settings, staging, content, debug, output)
        if not built or (accept is not None and not accept(staging)):
            shutil.rmtree(staging, ignore_errors=True)
            return False
        if then is not None:
            then(staging)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    previous = output.with_name(f".{output.name}-previous")
    shutil.rmtree(previous, ignore_errors=True)
    if output.exists():
        output.rename(previous)
    staging.rename(output)
    shutil.rmtree(previous, ignore_errors=True)
    return True


def load_settings(settings: Path) -> dict:
    """A Pelican settings file as Pelican reads it, its defaults included."""
    from pelican.settings import read_settings

    return read_settings(str(settings))


def read_setting(settings: Path, name: str):
    """One value of a Pelican settings file, as Pelican reads it (defaults included)."""
    return load_settings(settings).get(name)
