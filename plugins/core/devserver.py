"""The development server's comments: a local Isso with one admin password per checkout."""

from __future__ import annotations

import secrets
import subprocess
from pathlib import Path


def admin_password_for_dev(isso_dir: Path) -> str:
    """One password per checkout, kept in the ignored .isso/ folder."""
    path = Path(isso_dir) / "admin-password"
    if not path.exists():
        path.parent.mkdir(exist_ok=True)
        path.write_text(secrets.token_urlsafe(12), encoding="utf-8")
    return path.read_text(encoding="utf-8").strip()


def isso_config(isso_dir: Path, host: str, site_port: int, isso_port: int) -> Path:
    """Isso's configuration for the dev server's exact origin: SQLite in isso_dir, moderation on."""
    from comments import server as isso_server

    return isso_server.write_config(isso_dir, f"http://{host}:{site_port}", isso_port, admin_password_for_dev(isso_dir))


def isso_run_command(config: Path) -> str:
    """The shell command that runs Isso in the foreground with config."""
    from comments import server as isso_server

    return " ".join([*isso_server.isso_command(), "-c", str(config), "run"])


def start_isso(isso_dir: Path, host: str, site_port: int, isso_port: int) -> subprocess.Popen:
    """A local Isso for the dev server, started in the background and answering; its log in isso_dir/isso.log."""
    from comments import server as isso_server

    process = isso_server.start(isso_config(isso_dir, host, site_port, isso_port), Path(isso_dir) / "isso.log")
    isso_server.wait_until_ready(f"http://{host}:{isso_port}", process)
    return process


def stop_isso(process: subprocess.Popen) -> None:
    from comments import server as isso_server

    isso_server.stop(process)
