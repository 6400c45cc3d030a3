"""The kiosk shell page, its service worker and manifest, and their transfer size."""

from __future__ import annotations

import gzip
import json
import re

from tests.conftest import html

SIZE_GOAL = 50 * 1024


def shell_files(client) -> dict[str, bytes]:
    """Everything a tablet downloads to run the kiosk: the page, what it links, the worker."""
    page = client.get("/kiosk")
    soup = html(page)
    urls = [soup.select_one("script[src]")["src"]]
    urls += [link["href"] for link in soup.select("link[href]")]
    urls.append(soup.html["data-sw"])
    files = {"/kiosk": page.get_data()}
    for url in urls:
        with client.get(url) as response:  # static files are streamed: close them
            assert response.status_code == 200, url
            files[url] = response.get_data()
    return files


def test_shell_has_every_screen_in_vietnamese_and_english(client):
    page = html(client.get("/kiosk"))
    assert page.html["lang"] == "vi"
    assert page.html["data-langs"] == "vi en"
    for screen in ("loading", "rate", "criterion", "thanks", "closed", "enrol"):
        assert page.select_one(f"section#s-{screen}.screen") is not None, screen
    heading = page.select("#s-rate h1 .t")
    assert [(node["lang"], node.get_text()) for node in heading] == [
        ("vi", "Ông/Bà có hài lòng với việc giải quyết thủ tục hôm nay không?"),
        ("en", "How satisfied are you with the service today?"),
    ]
    assert page.select_one("#s-enrol h1 .t[lang=vi]").get_text() == "Thiết bị này chưa được đăng ký"
    assert page.select_one("#s-enrol a")["href"] == "/kiosk/enrol"


def test_shell_is_the_same_for_every_request_so_it_can_be_cached(client):
    first = client.get("/kiosk").get_data()
    assert client.get("/kiosk?lang=en").get_data() == first
    assert "Set-Cookie" not in client.get("/kiosk").headers


def test_shell_obeys_the_strict_content_security_policy(client):
    response = client.get("/kiosk")
    assert "script-src 'self'" in response.headers["Content-Security-Policy"]
    page = html(response)
    assert all(script.get("src") for script in page.select("script"))
    assert page.select("[style]") == []
    assert not [tag for tag in page.find_all(True) if any(a.startswith("on") for a in tag.attrs)]


def test_assets_carry_the_app_version_so_a_new_release_replaces_them(client):
    page = html(client.get("/kiosk"))
    version = page.html["data-version"]
    assert re.fullmatch(r"\d+\.\d+\.\d+\+[0-9a-f]{10}", version)
    digest = version.split("+")[1]
    assert page.select_one("script")["src"] == f"/static/js/kiosk.js?v={digest}"
    assert page.select_one("link[rel=stylesheet]")["href"] == f"/static/css/kiosk.css?v={digest}"


def test_service_worker_is_served_fresh_with_a_scope_covering_the_kiosk(client):
    response = client.get("/kiosk/sw.js")
    assert response.status_code == 200
    assert response.mimetype == "text/javascript"
    assert response.headers["Cache-Control"] == "no-cache"
    assert response.headers["Service-Worker-Allowed"] == "/kiosk"
    body = response.get_data(as_text=True)
    precache = json.loads(re.search(r"const PRECACHE = (\[.*?\]);", body).group(1))
    page = html(client.get("/kiosk"))
    assert "/kiosk" in precache
    assert page.select_one("script")["src"] in precache
    assert page.select_one("link[rel=stylesheet]")["href"] in precache
    assert page.html["data-version"] in body


def test_manifest_opens_the_kiosk_full_screen_in_landscape(client):
    response = client.get("/kiosk/manifest.webmanifest")
    assert response.mimetype == "application/manifest+json"
    manifest = json.loads(response.get_data())
    assert (manifest["start_url"], manifest["scope"]) == ("/kiosk", "/kiosk")
    assert (manifest["display"], manifest["orientation"]) == ("fullscreen", "landscape")
    assert manifest["name"] == "Máy đánh giá hailong"
    with client.get(manifest["icons"][0]["src"]) as icon:
        assert icon.status_code == 200 and icon.mimetype == "image/svg+xml"


def test_kiosk_page_with_its_service_worker_weighs_at_most_50_kb(client):
    files = shell_files(client)
    assert set(files) >= {"/kiosk", "/kiosk/sw.js", "/kiosk/manifest.webmanifest"}
    total = sum(len(body) for body in files.values())
    assert total <= SIZE_GOAL, {url: len(body) for url, body in files.items()}
    # Served compressed (nginx gzip), it is several times smaller again.
    assert sum(len(gzip.compress(body)) for body in files.values()) < total / 2
