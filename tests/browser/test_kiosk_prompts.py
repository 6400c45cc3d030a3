"""Issue 19's acceptance in Chromium: an administrator adds Tày, imports its translations from a
CSV, uploads a spoken prompt made here (espeak-ng, then opusenc into OGG Opus) and enables Tày
with "read out when someone approaches" on a kiosk; a citizen rates in Tày while the prompt
plays, online and then offline; the ratings are stored in Tày. axe-core on every screen."""

from __future__ import annotations

import csv
import io

import pytest
import sqlalchemy as sa

from survey.extensions import db
from survey.models import Kiosk
from tests.browser import test_kiosk
from tests.browser.test_accessibility import check, sign_in
from tests.browser.test_kiosk import ALWAYS_OPEN, rows, set_settings, wait_until_sent
from tests.survey.languages.recordings import need_tools, opus

pytestmark = need_tools()
desk_id = test_kiosk.desk_id  # an agency, a desk and an administrator

# Play a spoken prompt: what the page's one <audio> element did, seen from inside the page.
LISTEN = """() => {
  const voice = document.getElementById('voice');
  window.heard = [];
  voice.addEventListener('playing', () => window.heard.push({key: voice.dataset.key, src: voice.currentSrc}));
  voice.addEventListener('timeupdate', () => {
    const last = window.heard[window.heard.length - 1];
    if (last) last.time = Math.max(last.time || 0, voice.currentTime);
  });
}"""
HEARD = "() => window.heard"
CACHED_PROMPTS = """() => caches.open('hailong-prompts')
  .then((cache) => cache.keys()).then((keys) => keys.map((r) => new URL(r.url).pathname))"""


@pytest.fixture(scope="module")
def axe():
    axe_module = pytest.importorskip("axe_playwright_python.sync_playwright")
    return axe_module.Axe()


def translations_csv() -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["key", "translation"])
    writer.writerow(["question", "Mình hài lòng dá đảy?"])
    writer.writerow(["level.rat_hai_long", "Hài lòng lai"])
    writer.writerow(["level.hai_long", "Hài lòng đảy"])
    writer.writerow(["start", "Chạm nả màn hình"])
    writer.writerow(["listen", "Thính"])
    return out.getvalue().encode("utf-8-sig")


def heard_after(page, key: str) -> dict:
    """Wait until the prompt `key` has played for a while; what the page saw of it."""
    for _ in range(100):
        heard = [h for h in page.evaluate(HEARD) if h["key"] == key and h.get("time", 0) > 0]
        if heard:
            return heard[-1]
        page.wait_for_timeout(100)
    raise AssertionError(f"the prompt {key} did not play: {page.evaluate(HEARD)}")


def rate_in_tay_while_listening(page, axe, what: str) -> None:
    page.locator("#s-attract #start").wait_for()
    check(axe, page, f"kiosk start screen, {what}")
    page.evaluate(LISTEN)
    page.locator("#lang-tay").click()  # the approach: a touch, here on the language button
    assert page.locator("html").get_attribute("lang") == "tay"
    page.locator("#s-rate").wait_for()
    played = heard_after(page, "question")
    assert played["src"].startswith("blob:")  # from the kept recording, not the network
    assert page.locator("#s-rate h1 .t[lang=tay]").inner_text() == "Mình hài lòng dá đảy?"
    assert page.locator("#s-rate .speak").is_visible()
    check(axe, page, f"kiosk in Tày with the speaker button, {what}")
    page.locator("#levels .level").nth(1).click()
    page.locator("#s-thanks").wait_for()


def test_a_citizen_rates_in_tay_with_the_spoken_prompt_online_and_offline(
    live_server, context, page, desk_id, axe, tmp_path
):
    sign_in(page, live_server.url, "admin@example.org")

    # Tày, named in itself.
    page.goto(f"{live_server.url}/admin/languages")
    page.locator("#code").fill("tay")
    page.locator("#name").fill("Tày")
    page.locator("#name_vi").fill("Tiếng Tày")
    page.get_by_role("button", name="Thêm ngôn ngữ").click()
    page.locator("#language-tay").wait_for()

    # Its translations from a spreadsheet.
    page.locator("#language-tay a").first.click()
    page.locator("#pack-import input[type=file]").set_input_files(
        files=[{"name": "tay.csv", "mimeType": "text/csv", "buffer": translations_csv()}]
    )
    page.locator("#pack-import button[type=submit]").click()
    page.locator("#row-question textarea").wait_for()
    assert page.locator("#row-question textarea").input_value() == "Mình hài lòng dá đảy?"

    # The question, spoken in the test and encoded into OGG Opus.
    recording = tmp_path / "cau-hoi.ogg"
    recording.write_bytes(opus(tmp_path, "Mình hài lòng dá đảy?"))
    page.goto(f"{live_server.url}/admin/languages")
    page.locator("#prompts-tay a").first.click()
    page.locator("#prompt-question input[type=file]").set_input_files(str(recording))
    page.locator("#prompts-form > button[type=submit]").click()
    page.locator("#prompt-question audio[preload=none]").wait_for()
    check(axe, page, "spoken prompts page")

    # A kiosk with Tày and "read the question out when someone approaches", set on its page.
    page.goto(f"{live_server.url}/admin/kiosks/new")
    page.locator("#desk").select_option(str(desk_id))
    page.locator("#name").fill("Máy sảnh chờ")
    page.locator("main form button[type=submit]").click()
    link = page.locator("#enrol-link").get_attribute("href")
    with live_server.app.app_context():
        kiosk_id = db.session.scalar(sa.select(Kiosk.id))
    set_settings(live_server, kiosk_id, cooldown_seconds=1, hours=ALWAYS_OPEN)  # open at night
    page.goto(f"{live_server.url}/admin/kiosks/{kiosk_id}/settings")
    page.locator("input[name=languages][value=tay]").check()
    page.locator("#speak_on_approach").check()
    page.locator("main form button[type=submit]").last.click()
    page.wait_for_url("**/admin/kiosks")

    # The tablet.
    page.goto(link)
    page.get_by_role("button", name="Đăng ký máy tính bảng này").click()
    page.wait_for_url("**/kiosk")
    page.evaluate("navigator.serviceWorker.ready.then(() => true)")
    rate_in_tay_while_listening(page, axe, "online")
    check(axe, page, "kiosk thank-you in Tày")
    wait_until_sent(page)
    assert [(r.level, r.language, r.mode) for r in rows(live_server)] == [
        ("hai_long", "tay", "standard")
    ]

    # Offline, after a reload: the shell from the service worker, the recording from its cache.
    prompt = page.evaluate(CACHED_PROMPTS)
    assert len(prompt) == 1 and prompt[0].startswith("/prompts/")
    page.locator("#s-attract").wait_for()
    context.set_offline(True)
    assert page.reload().from_service_worker
    rate_in_tay_while_listening(page, axe, "offline")
    assert page.locator("#staff").get_attribute("data-queue") == "1"
    context.set_offline(False)
    wait_until_sent(page)
    stored = rows(live_server)
    assert [(r.language, r.mode) for r in stored] == [("tay", "standard")] * 2


def test_faces_only_with_spoken_prompts_passes_axe(live_server, page, desk_id, axe, tmp_path):
    from survey.languages.audio import check_audio
    from survey.languages.prompts import store
    from survey.models import Questionnaire

    data = opus(tmp_path, "Ông/Bà có hài lòng không?")
    with live_server.app.app_context():
        store("vi", Questionnaire.default(), "question", data, check_audio(data))
        db.session.commit()
    code = test_kiosk.new_kiosk_code(
        live_server, desk_id, faces_only=True, speak_on_approach=True, cooldown_seconds=1
    )
    page.goto(f"{live_server.url}/kiosk/enrol/{code}")
    page.get_by_role("button", name="Đăng ký máy tính bảng này").click()
    page.wait_for_url("**/kiosk")
    page.locator("#s-attract #start").wait_for()
    check(axe, page, "kiosk start screen, faces only")
    page.evaluate(LISTEN)
    page.locator("#start").click()
    heard_after(page, "question")
    speaker = page.locator("#s-rate .speak")
    assert speaker.is_visible()
    assert page.get_by_role("button", name="Nghe đọc").first.is_visible()  # named, no text shown
    check(axe, page, "kiosk faces only with the speaker button")
    page.evaluate(LISTEN)
    speaker.click()
    heard_after(page, "question")
    page.locator("#levels .level").first.click()
    page.locator("#s-thanks").wait_for()
    wait_until_sent(page)
    assert [(r.language, r.mode) for r in rows(live_server)] == [("vi", "faces")]
