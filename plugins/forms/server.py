"""Run the forms endpoint: `python -m forms.server SETTINGS` (what `./vetrina forms` and `serve` start), and
helpers that start it in the background for the dev server and the tests.

Development uses the standard library's WSGI server, one thread per request, with a timer that delivers the
messages left in the outbox. Production runs `forms.wsgi:application` in any WSGI server (see the README).
"""

from __future__ import annotations

import argparse
import ast
import logging
import os
import subprocess
import sys
from pathlib import Path
from socketserver import ThreadingMixIn
from urllib.parse import urlsplit
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from comments.server import stop  # noqa: F401  (the endpoint stops as Isso does: terminate, then kill)
from comments.server import wait_for_answer

from .app import FormsApp
from .settings import FormsSettings

logger = logging.getLogger(__name__)
PLUGINS = Path(__file__).resolve().parents[1]


class ThreadingServer(ThreadingMixIn, WSGIServer):
    daemon_threads = True


class QuietHandler(WSGIRequestHandler):
    def log_message(self, format, *args):  # noqa: A002 (the standard library's name)
        logger.debug(format, *args)


def load(settings_file: Path, environ=os.environ, retry_every: float = 60, **overrides) -> FormsApp:
    """The app for a Pelican settings file (its folder is the project's)."""
    from pelican.settings import read_settings

    settings_file = Path(settings_file).resolve()
    root = settings_file.parent
    settings = read_settings(str(settings_file), override=overrides or None)
    config = FormsSettings.from_settings(settings, root)
    theme = Path(settings.get("THEME") or "theme")
    theme = theme if theme.is_absolute() else root / theme
    return FormsApp(config, theme, root, environ=environ, timezone=settings.get("TIMEZONE") or "UTC",
                    retry_every=retry_every)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="forms", description="Run the forms endpoint for development.")
    parser.add_argument("settings", type=Path, help="the Pelican settings file (pelicanconf.py)")
    parser.add_argument("--port", type=int, default=0, help="default: the port of FORMS_ENDPOINT")
    parser.add_argument("--retry-every", type=float, default=60, help="seconds between deliveries of the outbox")
    parser.add_argument("--set", action="append", default=[], metavar="NAME=PYTHON",
                        help="override a setting, e.g. --set 'FORMS_SITE_ORIGIN=\"http://127.0.0.1:8001\"'")
    options = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    overrides = {}
    for item in options.set:
        name, _, value = item.partition("=")
        overrides[name] = ast.literal_eval(value)
    app = load(options.settings, retry_every=options.retry_every, **overrides)
    port = options.port or urlsplit(app.config.endpoint).port or 8090
    httpd = make_server("127.0.0.1", port, app, server_class=ThreadingServer, handler_class=QuietHandler)
    app.start_delivery()
    app.deliver_soon()  # what an earlier run left due
    print(f"Forms endpoint on http://127.0.0.1:{port}/ for the site at {app.config.site_origin} "
          f"(database {app.config.database})", flush=True)
    try:
        httpd.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        httpd.server_close()
    return 0


def command(settings_file: Path, port: int, *extra: str) -> list[str]:
    return [sys.executable, "-m", "forms.server", str(settings_file), "--port", str(port), *extra]


def start(settings_file: Path, port: int, log_path: Path, *extra: str, env: dict | None = None) -> subprocess.Popen:
    """The endpoint in the background; its log (deliveries, refusals) goes to log_path."""
    log_path.parent.mkdir(parents=True, exist_ok=True)
    log = log_path.open("ab")
    environment = {**(env if env is not None else os.environ)}
    environment["PYTHONPATH"] = os.pathsep.join(filter(None, [str(PLUGINS), environment.get("PYTHONPATH", "")]))
    return subprocess.Popen(command(settings_file, port, *extra), stdout=log, stderr=subprocess.STDOUT,
                            env=environment, cwd=str(Path(settings_file).resolve().parent))


def wait_until_ready(url: str, process: subprocess.Popen, timeout: float = 20) -> None:
    wait_for_answer(f"{url}/", process, "the forms endpoint", timeout, errors_answer=True)  # 404 at its root


def start_beside(settings_file: Path, root: Path, host: str, site_port: int, log: Path):
    """The forms endpoint beside a development server, for that server's exact origin: (process, URL)."""
    from core.build import load_settings

    config = FormsSettings.from_settings(load_settings(settings_file), root)
    origin = f"http://{host}:{site_port}"
    process = start(settings_file, port_of(config), log,
                    "--set", f"FORMS_SITE_ORIGIN={origin!r}", "--set", f"SITE_DEV_URL={origin!r}")
    wait_until_ready(config.endpoint, process)
    return process, config.endpoint


def port_of(config) -> int:
    return urlsplit(config.endpoint).port or 8090


if __name__ == "__main__":
    sys.exit(main())
