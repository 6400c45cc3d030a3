"""Browser tests: the app served on a free local port, driven by Playwright with Debian's
Chromium. Skipped (with the reason) when Chromium or Playwright is missing."""

from __future__ import annotations

import os
import shutil
import threading
import uuid
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from survey import create_app
from survey.extensions import db
from tests.conftest import missing_service

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


class LiveServer:
    def __init__(self, app):
        self.app = app
        self.server = make_server("127.0.0.1", 0, app, threaded=True)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def start(self):
        self.thread.start()

    def stop(self):
        self.server.shutdown()
        self.thread.join(timeout=5)


@pytest.fixture
def live_config() -> dict:
    """Override in a test module to change the live app's settings."""
    return {}


@pytest.fixture
def live_server(tmp_path, sqlite_template, live_config):
    """The app on a fresh migrated SQLite database, served on 127.0.0.1 in a thread."""
    path = tmp_path / "live.db"
    shutil.copy(sqlite_template, path)
    app = create_app(
        {
            "CONFIG_NAME": "testing",
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{path}",
            "SECRET_KEY": "live-" + uuid.uuid4().hex,
            **live_config,
        }
    )
    server = LiveServer(app)
    server.start()
    yield server
    server.stop()
    with app.app_context():
        db.engine.dispose()


@pytest.fixture(scope="session")
def chromium():
    if not Path(CHROMIUM).exists():
        missing_service(f"browser tests need Chromium at {CHROMIUM} (apt-get install chromium)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        missing_service("browser tests need the playwright package (requirements-dev.txt)")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def context(chromium, tmp_path):
    context = chromium.new_context(accept_downloads=True, locale="vi-VN")
    yield context
    context.close()


@pytest.fixture
def page(context):
    page = context.new_page()
    page.set_default_timeout(15_000)
    return page
