"""Every page type of the app, on a seeded database: shared by the rendered-HTML checks
(tests/survey/test_pages.py) and the axe-core browser tests (tests/browser/test_accessibility.py).

`seed_site(app)` fills an empty database with the demo province plus what the demo lacks (a
dossier ticket, a kiosk waiting to be enrolled, a flagged response, an API key, a draft
questionnaire, a target) and returns the addresses that cannot be found by following links.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, timedelta
from urllib.parse import urljoin, urlsplit

import sqlalchemy as sa
from bs4 import BeautifulSoup
from werkzeug.exceptions import HTTPException

from survey import demo
from survey.credentials import issue_api_key
from survey.extensions import db
from survey.kiosk import enrolment
from survey.kiosk_settings import WEEKDAYS, KioskSettings
from survey.languages.models import Language, LanguagePack
from survey.models import (
    Agency,
    Channel,
    Desk,
    Kiosk,
    Questionnaire,
    Response,
    Status,
    Target,
    TargetScope,
    utcnow,
)
from survey.tickets.service import TicketRequest, issue, ticket_token
from survey.tokens import desk_token
from tests.conftest import PASSWORD

DEMO_TODAY = date(2026, 11, 21)
QUARTER = "2026-Q3"

# GET endpoints that answer something other than an HTML page.
NOT_HTML = {
    "cases.holidays_now",  # redirects to this year's holidays
    "static",
    "admin.agencies_export",
    "admin.import_template",
    "admin.language_pack_export",
    "admin.posters_pdf",
    "dashboard.chart",
    "dashboard.export",
    "dashboard.dossiers_export",
    "dashboard.splits_export",
    "dashboard.followup_export",
    "followup.calls",
    "dashboard.trend",
    "kiosk.manifest",
    "kiosk.service_worker",
    "main.healthz",
    "main.ping",
    "main.prompt",  # a spoken prompt (audio)
}


def html_endpoints(app) -> set[str]:
    """Every endpoint that serves an HTML page to a GET."""
    return {
        rule.endpoint
        for rule in app.url_map.iter_rules()
        if "GET" in rule.methods
        and rule.endpoint not in NOT_HTML
        and not rule.endpoint.startswith("api.")
    }


@dataclass(frozen=True)
class Site:
    """Addresses of pages that no link leads to (they come from a QR code or an e-mail)."""

    survey: str
    thanks: str
    ticket: str
    ticket_thanks: str
    kiosk_enrol_link: str
    review_detail: str
    agency_code: str

    def entry_points(self) -> list[str]:
        return [
            "/",
            "/auth/login",
            "/public/results",
            f"/dashboard?period={QUARTER}",
            "/admin/",
            "/review/",
            "/kiosk",
            "/kiosk/enrol",
            self.survey,
            self.thanks,
            self.ticket,
            self.ticket_thanks,
            self.kiosk_enrol_link,
            self.review_detail,
        ]


def seed_site(app) -> Site:
    """Seed the demo province and the objects it lacks; return the pages links do not reach."""
    with app.app_context():
        demo.seed(PASSWORD, today=DEMO_TODAY)
        desk = db.session.scalar(
            sa.select(Desk).join(Agency).where(Agency.code == "PHT").order_by(Desk.code).limit(1)
        )
        ticket, _created = issue(TicketRequest(desk=desk, dossier_code="H01.2026.000123"))
        kiosk = Kiosk(
            desk=desk,
            name="Máy tính bảng sảnh chờ",
            settings=KioskSettings(hours={day: ("07:00", "17:00") for day in WEEKDAYS}).to_json(),
        )
        db.session.add(kiosk)
        code = enrolment.start(kiosk)
        questionnaire = desk.current_questionnaire()
        flagged = Response(
            id=uuid.uuid4(),
            desk_id=desk.id,
            agency_id=desk.agency_id,
            questionnaire_id=questionnaire.id,
            channel=Channel.QR,
            level="hai_long",
            satisfied=True,
            occurred_at=utcnow() - timedelta(minutes=5),
            received_at=utcnow(),
            status=Status.FLAGGED,
            status_reason="client_burst",
            content_hash=uuid.uuid4().hex,
        )
        db.session.add(flagged)
        source = Questionnaire.default()
        db.session.add(
            Questionnaire(
                key=source.key,
                version=source.version + 1,
                title=dict(source.title),
                levels=[dict(level, label=dict(level["label"])) for level in source.levels],
                satisfied=list(source.satisfied),
                criteria=[dict(item, label=dict(item["label"])) for item in source.criteria],
                published_at=None,
                is_default=False,
            )
        )
        db.session.add(
            Target(
                scope=TargetScope.AGENCY,
                agency=desk.agency,
                rate=0.95,
                valid_from=date(2026, 1, 1),
                note="Chỉ tiêu riêng của phường",
            )
        )
        issue_api_key("Cổng dịch vụ công tỉnh", ["tickets:write"])
        tay = Language(code="tay", name="Tày", name_vi="Tiếng Tày")
        db.session.add(
            LanguagePack(language=tay, questionnaire=questionnaire, texts={"send": "Sống"})
        )
        desk.languages = ["tay"]
        # A returned dossier and a follow-up draw of it, for the follow-up pages.
        returned, _created = issue(
            TicketRequest(desk=desk, dossier_code="H01.2026.000124", returned_date=date(2026, 8, 3))
        )
        db.session.commit()
        from survey.followup.service import draw

        draw("2026-Q3", 1, seed=1, actor="pages")
        token = desk_token(desk.id)
        return Site(
            survey=f"/s/{token}",
            thanks=f"/s/{token}/thanks",
            ticket=f"/t/{ticket_token(ticket)}",
            ticket_thanks=f"/t/{ticket_token(ticket)}/thanks",
            kiosk_enrol_link=f"/kiosk/enrol/{code}",
            review_detail=f"/review/{flagged.id}",
            agency_code=desk.agency.code,
        )


# ---- crawling ----------------------------------------------------------------------------------


@dataclass
class Page:
    url: str
    endpoint: str
    status: int
    html: str
    after: str = "GET"  # or "POST <url>": the page shown after sending a form empty


def _endpoint(app, url: str) -> str | None:
    parts = urlsplit(url)
    adapter = app.url_map.bind("localhost")
    try:
        endpoint, _args = adapter.match(parts.path, method="GET")
    except HTTPException:
        return None
    return endpoint


def _local(href: str | None, base: str) -> str | None:
    if not href or href.startswith(("#", "mailto:", "tel:", "data:", "javascript:")):
        return None
    url = urljoin("http://localhost" + base, href)
    parts = urlsplit(url)
    if parts.netloc not in ("localhost", "hailong.test"):
        return None
    return parts.path + (f"?{parts.query}" if parts.query else "")


def crawl(app, client, start: list[str], per_endpoint: int = 3) -> list[Page]:
    """Every HTML page reachable by links from `start`, up to `per_endpoint` addresses per
    endpoint, plus each form page once more after sending its form with its fields left empty
    (the page with errors). Forms that only confirm an action (no field to fill) are not sent."""
    html_pages = html_endpoints(app)
    pages: list[Page] = []
    seen: set[str] = set()
    per: dict[str, int] = {}
    sent: set[str] = set()
    queue = list(start)
    while queue:
        url = queue.pop(0)
        endpoint = _endpoint(app, url)
        if url in seen or endpoint not in html_pages or per.get(endpoint, 0) >= per_endpoint:
            continue
        seen.add(url)
        per[endpoint] = per.get(endpoint, 0) + 1
        response = client.get(url)
        if response.status_code in (301, 302, 303, 307, 308):
            target = _local(response.headers["Location"], url)
            if target:
                queue.append(target)
            continue
        if response.mimetype != "text/html":
            continue
        text = response.get_data(as_text=True)
        pages.append(Page(url, endpoint, response.status_code, text))
        soup = BeautifulSoup(text, "html.parser")
        for link in soup.select("a[href]"):
            target = _local(link["href"], url)
            if target and target not in seen:
                queue.append(target)
        for form in soup.select("form"):
            if (form.get("method") or "get").lower() != "post":
                continue
            action = _local(form.get("action") or url, url)
            fields = form.select(
                "input:not([type=hidden]):not([type=submit]):not([type=button]), select, textarea"
            )
            if not action or not fields or action in sent:
                continue
            if _endpoint(app, action) not in html_pages:
                continue
            sent.add(action)
            data = {
                field["name"]: field.get("value", "")
                for field in form.select("input[type=hidden][name]")
            }
            answer = client.post(action, data=data)
            if answer.mimetype == "text/html" and not answer.status_code // 100 == 3:
                pages.append(
                    Page(action, _endpoint(app, action), answer.status_code, answer.text, "POST")
                )
    return pages
