"""Run a local Isso for development and tests: a generated configuration, SQLite in an ignored folder."""

from __future__ import annotations

import configparser
import json
import secrets
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import NamedTuple


def write_config(folder: Path, site_origin: str, port: int, admin_password: str | None = None,
                 moderated: bool = True, guarded: bool = True) -> Path:
    """An Isso configuration for a site served at exactly site_origin; moderation and rate limits on by default."""
    folder.mkdir(parents=True, exist_ok=True)
    config = configparser.ConfigParser()
    config["general"] = {
        "dbpath": str(folder / "comments.db"),
        "host": site_origin,  # scheme, host and port must match the page's origin exactly
        "notify": "stdout",  # moderation links (activate, delete) are printed in the log
        "max-age": "15m",
        "gravatar": "false",
    }
    config["moderation"] = {"enabled": str(moderated).lower(), "approve-if-email-previously-approved": "false",
                            "purge-after": "30d"}
    config["server"] = {"listen": f"http://127.0.0.1:{port}", "public-endpoint": f"http://127.0.0.1:{port}",
                        "reload": "false", "trusted-proxies": ""}
    config["guard"] = {"enabled": str(guarded).lower(), "ratelimit": "10", "direct-reply": "3",
                       "reply-to-self": "false", "require-author": "false", "require-email": "false"}
    config["admin"] = {"enabled": "true", "password": admin_password or secrets.token_urlsafe(12)}
    config["hash"] = {"salt": secrets.token_hex(12), "algorithm": "pbkdf2"}
    path = folder / "isso.cfg"
    with path.open("w", encoding="utf-8") as handle:
        config.write(handle)
    return path


def isso_command() -> list[str]:
    return [str(Path(sys.executable).parent / "isso")]


def start(config_path: Path, log_path: Path) -> subprocess.Popen:
    """Start Isso; its log (with the moderation links) goes to log_path."""
    log = log_path.open("ab")
    return subprocess.Popen([*isso_command(), "-c", str(config_path), "run"], stdout=log, stderr=subprocess.STDOUT)


def wait_until_ready(url: str, process: subprocess.Popen, timeout: float = 20) -> None:
    wait_for_answer(f"{url}/info", process, "Isso", timeout)


def wait_for_answer(url: str, process: subprocess.Popen, name: str, timeout: float = 20,
                    errors_answer: bool = False) -> None:
    """Wait until a server just started answers at url (with an HTTP error too, if errors_answer); a clear
    RuntimeError if its process ends first or it does not answer in time."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{name} stopped at start (exit {process.returncode}); see its log")
        try:
            with urllib.request.urlopen(url, timeout=1):
                return
        except urllib.error.HTTPError:
            if errors_answer:
                return
            time.sleep(0.2)
        except (urllib.error.URLError, OSError):
            time.sleep(0.2)
    raise RuntimeError(f"{name} did not answer at {url} within {timeout} s")


def stop(process: subprocess.Popen) -> None:
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def free_port() -> int:
    """A port on 127.0.0.1 that nothing listens on now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Posted(NamedTuple):
    status: int  # 201 published, 202 waiting for moderation
    comment: dict  # Isso's answer: the comment with its id
    cookie: str  # what lets its author edit or delete it


def post_comment(isso_url: str, uri: str, author: str, text: str, parent: int | None = None,
                 timeout: float = 10) -> Posted:
    """A comment posted through Isso's API as a visitor's browser does."""
    body = {"text": text, "author": author, "title": "Una prova", **({"parent": parent} if parent else {})}
    request = urllib.request.Request(f"{isso_url}/new?uri={uri}", data=json.dumps(body).encode(), method="POST",
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=timeout) as response:
        return Posted(response.status, json.loads(response.read()),
                      (response.headers.get("Set-Cookie") or "").split(";")[0])
