"""Screenshots of what citizens and analysts see on a phone (issue 17): the citizen page, its
thank-you page, the kiosk, the dashboard and the public results, in docs/screenshots/.

Rerun after changing a page:

    .venv/bin/python docs/screenshots/take.py

It serves the app on a free local port over a throwaway SQLite database seeded with the demo
province (the same seeding as the page tests, tests/pages.py), and drives Debian's Chromium
(CHROMIUM_PATH, default /usr/bin/chromium) with Playwright. Nothing outside this folder changes.
"""

from __future__ import annotations

import sys
import tempfile
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from playwright.sync_api import sync_playwright  # noqa: E402

from survey import create_app, demo  # noqa: E402
from survey.extensions import db  # noqa: E402
from survey.kiosk_settings import WEEKDAYS, KioskSettings  # noqa: E402
from survey.models import Kiosk  # noqa: E402
from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS, LiveServer  # noqa: E402
from tests.conftest import PASSWORD, _migrate  # noqa: E402
from tests.pages import QUARTER, seed_site  # noqa: E402

OUT = Path(__file__).resolve().parent
PHONE = {"width": 360, "height": 740}


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{tmp}/screens.db"
        _migrate(url)
        app = create_app(
            {
                "CONFIG_NAME": "testing",
                "SQLALCHEMY_DATABASE_URI": url,
                "SECRET_KEY": uuid.uuid4().hex,
            }
        )
        site = seed_site(app)
        with app.app_context():  # the kiosk open at any hour, so that it shows its faces
            for kiosk in db.session.query(Kiosk):
                kiosk.settings = KioskSettings(
                    hours={day: ("00:00", "23:59") for day in WEEKDAYS}
                ).to_json()
            db.session.commit()
        server = LiveServer(app)
        server.start()
        try:
            shoot(server.url, site)
        finally:
            server.stop()
            with app.app_context():
                db.engine.dispose()


def shoot(base: str, site) -> None:
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        context = browser.new_context(locale="vi-VN", viewport=PHONE, device_scale_factor=1)
        page = context.new_page()

        page.goto(base + site.survey)
        save(page, "citizen-phone.png")
        page.locator("fieldset.rating label.choice").nth(1).click()
        with page.expect_navigation():
            page.locator("main form button[type=submit]").click()
        save(page, "citizen-thanks-phone.png")

        page.goto(base + "/public/results")
        save(page, "public-phone.png")

        page.goto(base + "/auth/login")
        page.get_by_label("Email").fill(demo.ANALYST_EMAIL)
        page.get_by_label("Mật khẩu").fill(PASSWORD)
        with page.expect_navigation():
            page.get_by_role("button", name="Đăng nhập").click()
        page.goto(f"{base}/dashboard?period={QUARTER}")
        save(page, "dashboard-phone.png")
        # The agency table on a 1440 px desktop: the core columns in view, the name sticky.
        page.set_viewport_size({"width": 1440, "height": 900})
        page.goto(f"{base}/dashboard?period={QUARTER}")
        page.locator("#table-heading").scroll_into_view_if_needed()
        page.evaluate(
            "window.scrollBy(0, document.getElementById('table-heading')"
            ".getBoundingClientRect().top - 10)"
        )
        save(page, "dashboard-desktop.png")
        context.close()

        # The kiosk is a tablet at the desk; shown on a phone-sized screen too.
        for name, size in (
            ("kiosk-phone.png", PHONE),
            ("kiosk-tablet.png", {"width": 800, "height": 1280}),
        ):
            kiosk = browser.new_context(locale="vi-VN", viewport=size, device_scale_factor=1)
            screen = kiosk.new_page()
            if name == "kiosk-phone.png":
                screen.goto(base + site.kiosk_enrol_link)
                screen.get_by_role("button", name="Đăng ký máy tính bảng này").click()
                screen.wait_for_url("**/kiosk")
                state = kiosk.storage_state()
            else:
                kiosk.close()
                kiosk = browser.new_context(
                    locale="vi-VN", viewport=size, device_scale_factor=1, storage_state=state
                )
                screen = kiosk.new_page()
                screen.goto(base + "/kiosk")
            screen.locator("#s-rate").wait_for()
            save(screen, name)
            kiosk.close()
        browser.close()


def save(page, name: str) -> None:
    page.screenshot(path=OUT / name)
    print(OUT / name)


if __name__ == "__main__":
    main()
