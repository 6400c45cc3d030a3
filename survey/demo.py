"""Synthetic demo data: a province whose agencies clearly meet, clearly miss, or can't be judged yet."""

from __future__ import annotations

import hashlib
import random
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import sqlalchemy as sa

from survey import patterns
from survey.cases.models import Case
from survey.extensions import db
from survey.models import (
    Agency,
    Answer,
    Channel,
    Desk,
    Kind,
    Level,
    Questionnaire,
    Response,
    Role,
    User,
)
from survey.periods import LOCAL_OFFSET
from survey.security import hash_password

PROVINCE_CODE = "DEMO"
ANALYST_EMAIL = "analyst@demo.hailong.vn"
ADMIN_EMAIL = "admin@demo.hailong.vn"
LEADER_EMAIL = "leader@demo.hailong.vn"  # head of Sở Y tế and its hospital
LEADER_AGENCY = "SYT"

# (code, name, level, kind, parent code, true satisfaction rate, responses per month)
# Rates and volumes are chosen so that, against 60%, 80% and 90% targets, some agencies
# clearly meet, some are clearly below, and some can't be judged yet.
AGENCIES: list[tuple[str, str, Level, Kind, str | None, float, int]] = [
    ("DEMO", "Tỉnh Hài Long (dữ liệu mẫu)", Level.PROVINCE, Kind.ADMINISTRATIVE, None, 0.0, 0),
    ("STP", "Sở Tư pháp", Level.DEPARTMENT, Kind.ADMINISTRATIVE, "DEMO", 0.97, 110),
    ("SXD", "Sở Xây dựng", Level.DEPARTMENT, Kind.ADMINISTRATIVE, "DEMO", 0.72, 70),
    ("STC", "Sở Tài chính", Level.DEPARTMENT, Kind.ADMINISTRATIVE, "DEMO", 0.91, 30),
    (
        "SNNMT",
        "Sở Nông nghiệp và Môi trường",
        Level.DEPARTMENT,
        Kind.ADMINISTRATIVE,
        "DEMO",
        0.84,
        45,
    ),
    ("SYT", "Sở Y tế", Level.DEPARTMENT, Kind.HEALTH, "DEMO", 0.95, 25),
    ("SGDDT", "Sở Giáo dục và Đào tạo", Level.DEPARTMENT, Kind.EDUCATION, "DEMO", 0.88, 12),
    ("BVDK", "Bệnh viện Đa khoa tỉnh", Level.SERVICE_UNIT, Kind.HEALTH, "SYT", 0.68, 150),
    ("THPTC", "Trường THPT Chuyên Hài Long", Level.SERVICE_UNIT, Kind.EDUCATION, "SGDDT", 0.93, 8),
    ("XAB", "Xã An Bình", Level.COMMUNE, Kind.ADMINISTRATIVE, "DEMO", 0.98, 90),
    ("XAP", "Xã An Phú", Level.COMMUNE, Kind.ADMINISTRATIVE, "DEMO", 0.55, 60),
    ("PHT", "Phường Hòa Thuận", Level.COMMUNE, Kind.ADMINISTRATIVE, "DEMO", 0.96, 140),
    ("PTL", "Phường Tân Lập", Level.COMMUNE, Kind.ADMINISTRATIVE, "DEMO", 0.89, 20),
    ("XDT", "Xã Đông Thạnh", Level.COMMUNE, Kind.ADMINISTRATIVE, "DEMO", 0.62, 40),
    ("XTS", "Xã Tây Sơn", Level.COMMUNE, Kind.ADMINISTRATIVE, "DEMO", 0.93, 6),
    ("PBD", "Phường Bình Đức", Level.COMMUNE, Kind.ADMINISTRATIVE, "DEMO", 0.99, 75),
    ("XLH", "Xã Long Hưng", Level.COMMUNE, Kind.ADMINISTRATIVE, "DEMO", 0.78, 55),
    ("XPM", "Xã Phước Mỹ", Level.COMMUNE, Kind.ADMINISTRATIVE, "DEMO", 0.86, 15),
    ("PNT", "Phường Nam Thành", Level.COMMUNE, Kind.ADMINISTRATIVE, "DEMO", 0.94, 100),
    ("XVL", "Xã Vĩnh Lợi", Level.COMMUNE, Kind.ADMINISTRATIVE, "DEMO", 0.48, 35),
    ("XQT", "Xã Quảng Thọ", Level.COMMUNE, Kind.ADMINISTRATIVE, "DEMO", 0.91, 10),
    ("PTH", "Phường Trung Hòa", Level.COMMUNE, Kind.ADMINISTRATIVE, "DEMO", 0.97, 65),
    ("XHS", "Xã Hưng Sơn", Level.COMMUNE, Kind.ADMINISTRATIVE, "DEMO", 0.81, 28),
    ("XGL", "Xã Gia Lộc", Level.COMMUNE, Kind.ADMINISTRATIVE, "DEMO", 0.90, 18),
]

DESK_NAMES = ["Quầy tiếp nhận số 1", "Quầy tiếp nhận số 2", "Quầy trả kết quả"]

COMMENTS = [
    "Cán bộ hướng dẫn tận tình, chu đáo.",
    "Thời gian chờ hơi lâu, mong cải thiện.",
    "Thủ tục nhanh gọn, rất hài lòng.",
    "Cần thêm ghế ngồi chờ cho người cao tuổi.",
    "Phải đi lại nhiều lần mới xong hồ sơ.",
    "Nhân viên thân thiện, giải thích rõ ràng.",
    "Nên niêm yết phí, lệ phí rõ hơn.",
    "Trả kết quả đúng hẹn.",
    "Máy lấy số thứ tự hay bị lỗi.",
    "Dịch vụ công trực tuyến còn khó sử dụng.",
]

CHANNELS = [(Channel.QR, 0.55), (Channel.KIOSK, 0.30), (Channel.PAPER, 0.10), (Channel.API, 0.05)]


@dataclass(frozen=True)
class DemoSummary:
    created: bool
    agencies: int
    desks: int
    responses: int


def demo_exists() -> bool:
    return db.session.scalar(sa.select(Agency.id).where(Agency.code == PROVINCE_CODE)) is not None


def seed(password: str, today: date | None = None, seed_value: int = 2026) -> DemoSummary:
    """Create the demo province, its desks, users and responses. Does nothing if it exists."""
    if demo_exists():
        return DemoSummary(False, *_counts())
    rng = random.Random(seed_value)
    today = today or datetime.now(UTC).date()
    start = _months_back(date(today.year, today.month, 1), 4)
    questionnaire = Questionnaire.default()

    agencies: dict[str, Agency] = {}
    for code, name, level, kind, parent, _rate, _volume in AGENCIES:
        agency = Agency(code=code, name=name, level=level, kind=kind, parent=agencies.get(parent))
        agencies[code] = agency
        db.session.add(agency)
    db.session.flush()

    desks: dict[str, list[Desk]] = {}
    for code, *_rest in AGENCIES[1:]:
        count = rng.randint(1, 3)
        desks[code] = [
            Desk(agency=agencies[code], code=f"{code}-Q{i + 1}", name=DESK_NAMES[i])
            for i in range(count)
        ]
        db.session.add_all(desks[code])
    db.session.flush()

    for email, role, agency in (
        (ANALYST_EMAIL, Role.ANALYST, None),
        (ADMIN_EMAIL, Role.ADMIN, None),
        (LEADER_EMAIL, Role.LEADER, agencies[LEADER_AGENCY]),
    ):
        db.session.add(
            User(
                email=email,
                name="Demo",
                role=role,
                agency=agency,
                password_hash=hash_password(password),
            )
        )

    rows, answers = _responses(rng, questionnaire, agencies, desks, start, today)
    for chunk in range(0, len(rows), 5000):
        db.session.execute(sa.insert(Response), rows[chunk : chunk + 5000])
    for chunk in range(0, len(answers), 5000):
        db.session.execute(sa.insert(Answer), answers[chunk : chunk + 5000])
    cases = _cases(rng, rows, today)
    if cases:
        db.session.execute(sa.insert(Case), cases)
    db.session.commit()
    return DemoSummary(True, *_counts())


REPLIES = [
    "Kính gửi Ông/Bà, cảm ơn Ông/Bà đã góp ý. Bộ phận một cửa đã bố trí thêm cán bộ vào giờ cao "
    "điểm để rút ngắn thời gian chờ.",
    "Kính gửi Ông/Bà, chúng tôi xin lỗi vì sự bất tiện. Đơn vị đã nhắc nhở cán bộ và rà soát lại "
    "quy trình tiếp nhận hồ sơ.",
    "Kính gửi Ông/Bà, bảng niêm yết phí, lệ phí đã được cập nhật tại quầy và trên cổng dịch vụ công.",
]


def _cases(rng, rows: list[dict], today: date) -> list[dict]:
    """Cases for the dissatisfied ratings with a comment: the older ones answered (most on
    time), a few closed, the recent ones still open, some of them overdue."""
    from survey.cases.service import due_date, new_code
    from survey.periods import to_local

    cases = []
    for row in rows:
        if row["satisfied"] or not row["comment"]:
            continue
        opened = row["received_at"]
        due = due_date(to_local(opened).date())
        age = (today - to_local(opened).date()).days
        case = {
            "code": new_code(),
            "response_id": row["id"],
            "agency_id": row["agency_id"],
            "status": "new",
            "opened_at": opened,
            "due_on": due,
            "updated_at": opened,
        }
        if age > 10 and rng.random() < 0.85:
            days = rng.choice([d for d in (2, 4, 7, 9, 13, 20) if d < age])
            answered = opened + timedelta(days=days, hours=2)
            reply = rng.choice(REPLIES)
            case.update(
                status="closed" if rng.random() < 0.5 else "answered",
                reply=reply,
                answered_at=answered,
                published_at=answered,
                updated_at=answered,
            )
            if case["status"] == "closed":
                case["closed_at"] = answered + timedelta(days=1)
        elif rng.random() < 0.5:
            case["status"] = "assigned"
        cases.append(case)
    return cases


def _months_back(first_of_month: date, months: int) -> date:
    year, month = first_of_month.year, first_of_month.month - months
    while month < 1:
        month += 12
        year -= 1
    return date(year, month, 1)


def _counts() -> tuple[int, int, int]:
    def count(model):
        return db.session.scalar(sa.select(sa.func.count()).select_from(model)) or 0

    return count(Agency), count(Desk), count(Response)


def _responses(rng, questionnaire, agencies, desks, start: date, end: date):
    levels = questionnaire.level_codes()  # best first: very satisfied, satisfied, not satisfied
    satisfied_levels = [lvl for lvl in levels if lvl in questionnaire.satisfied]
    unsatisfied_levels = [lvl for lvl in levels if lvl not in questionnaire.satisfied]
    criteria = questionnaire.criterion_codes()
    days = (end - start).days  # up to yesterday: nothing in the future
    rows: list[dict] = []
    answers: list[dict] = []
    for code, _name, _level, _kind, _parent, rate, per_month in AGENCIES[1:]:
        total = round(per_month * days / 30.4)
        for _ in range(total):
            occurred = _office_time(rng, start, days)
            happy = rng.random() < rate
            level = (
                satisfied_levels[0 if rng.random() < 0.45 else -1]
                if happy
                else rng.choice(unsatisfied_levels)
            )
            channel = _pick(rng, CHANNELS)
            response_id = uuid.UUID(int=rng.getrandbits(128), version=4)
            desk = rng.choice(desks[code])
            comment = rng.choice(COMMENTS) if rng.random() < 0.08 else None
            rows.append(
                {
                    "id": response_id,
                    "desk_id": desk.id,
                    "agency_id": desk.agency_id,
                    "questionnaire_id": questionnaire.id,
                    "channel": channel,
                    "level": level,
                    "satisfied": happy,
                    "comment": comment,
                    "dossier_code": None,
                    "occurred_at": occurred,
                    "received_at": occurred,
                    "client_time": occurred if channel == Channel.KIOSK else None,
                    "status": "valid",
                    "content_hash": hashlib.sha256(f"demo|{response_id}".encode()).hexdigest(),
                }
            )
            chosen: dict[str, str] = {}
            if rng.random() < 0.4:
                for criterion in rng.sample(criteria, rng.randint(2, len(criteria))):
                    c_happy = rng.random() < (rate + (1 - rate) * 0.3 if happy else rate * 0.6)
                    c_level = satisfied_levels[-1] if c_happy else unsatisfied_levels[0]
                    chosen[criterion] = c_level
                    answers.append(
                        {
                            "response_id": response_id,
                            "criterion": criterion,
                            "level": c_level,
                            "satisfied": c_happy,
                        }
                    )
            rows[-1]["answer_pattern"] = patterns.pattern(levels, criteria, chosen)
    return rows, answers


def _office_time(rng, start: date, days: int) -> datetime:
    """A weekday (or Saturday morning) moment in office hours, local time, stored as UTC."""
    while True:
        day = start + timedelta(days=rng.randrange(days))
        weekday = day.weekday()
        if weekday == 6 or (weekday == 5 and rng.random() < 0.7):
            continue
        hour = rng.choice([7, 8, 8, 9, 9, 9, 10, 10, 10, 11, 13, 14, 14, 15, 15, 16])
        if weekday == 5 and hour > 11:
            continue
        local = datetime(day.year, day.month, day.day, hour, rng.randrange(60), rng.randrange(60))
        return local - LOCAL_OFFSET


def _pick(rng, weighted):
    roll = rng.random()
    for value, weight in weighted:
        roll -= weight
        if roll < 0:
            return value
    return weighted[-1][0]
