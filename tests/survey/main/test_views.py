"""Front page, health check, error pages and security headers."""

from tests.conftest import html, text_of


def test_home_page_links_to_sign_in(client):
    response = client.get("/")
    assert response.status_code == 200
    assert html(response).select_one("a[href='/auth/login']") is not None


def test_healthz_reports_the_database(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json == {"status": "ok", "database": "ok"}


def test_unknown_page_is_a_translated_404(client):
    response = client.get("/khong-co")
    assert response.status_code == 404
    assert text_of(response, "h1") == "Không tìm thấy trang"


def test_unknown_api_path_is_a_problem_document(client):
    response = client.get("/api/v1/nothing")
    assert response.status_code == 404
    assert response.content_type == "application/problem+json"
    assert response.json["status"] == 404


def test_pages_carry_security_headers(client):
    headers = client.get("/").headers
    assert "unsafe-inline" not in headers["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in headers["Content-Security-Policy"]
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Referrer-Policy"] == "no-referrer"


def test_language_switch_keeps_the_query_string(client):
    link = html(client.get("/?period=2026-Q3&verdict=below&verdict=meets")).select_one(".lang a")
    assert link["href"] == "/?period=2026-Q3&verdict=below&verdict=meets&lang=en"
    assert link["lang"] == "en"
