"""reference data: the two shipped questionnaires and the default targets

The data is written out here, not imported from the app, so that this revision keeps
producing the same rows whatever the models become later.

Revision ID: 0002
Revises: 0001
"""

from datetime import date, datetime

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

PUBLISHED = datetime(2026, 11, 21)

ONE_STOP_LEVELS = [
    {"code": "rat_hai_long", "face": "😄", "label": {"vi": "Rất hài lòng", "en": "Very satisfied"}},
    {"code": "hai_long", "face": "🙂", "label": {"vi": "Hài lòng", "en": "Satisfied"}},
    {"code": "khong_hai_long", "face": "🙁", "label": {"vi": "Không hài lòng", "en": "Not satisfied"}},
]

# The nine criteria of the official one-stop evaluation (Decree 61/2018, now Decree 118/2025).
ONE_STOP_CRITERIA = [
    {"code": "total_time", "label": {"vi": "Tổng thời gian giải quyết so với thời hạn theo quy định", "en": "Total time to resolve, against the legal time limit"}},
    {"code": "agency_time", "label": {"vi": "Thời gian giải quyết của từng cơ quan có liên quan", "en": "Time taken by each agency involved"}},
    {"code": "contacts", "label": {"vi": "Số lần phải liên hệ để hoàn thiện hồ sơ", "en": "Number of contacts needed to complete the dossier"}},
    {"code": "agencies", "label": {"vi": "Số lượng cơ quan phải liên hệ", "en": "Number of agencies you had to contact"}},
    {"code": "one_stop_desk", "label": {"vi": "Việc tiếp nhận, trả kết quả hồ sơ tại Bộ phận Một cửa", "en": "Receiving and returning the dossier at the one-stop desk"}},
    {"code": "disclosure", "label": {"vi": "Việc công khai thủ tục hành chính", "en": "Public disclosure of the procedure"}},
    {"code": "attitude", "label": {"vi": "Thái độ của công chức", "en": "Attitude of the civil servants"}},
    {"code": "feedback", "label": {"vi": "Việc tiếp nhận, xử lý phản ánh, kiến nghị", "en": "Handling of feedback and complaints"}},
    {"code": "online", "label": {"vi": "Việc cung cấp dịch vụ công trực tuyến", "en": "Online public services"}},
]

SIPAS_LEVELS = [
    {"code": "rat_hai_long", "face": "😄", "label": {"vi": "Rất hài lòng", "en": "Very satisfied"}},
    {"code": "hai_long", "face": "🙂", "label": {"vi": "Hài lòng", "en": "Satisfied"}},
    {"code": "binh_thuong", "face": "😐", "label": {"vi": "Bình thường", "en": "Neutral"}},
    {"code": "khong_hai_long", "face": "🙁", "label": {"vi": "Không hài lòng", "en": "Not satisfied"}},
    {"code": "rat_khong_hai_long", "face": "😠", "label": {"vi": "Rất không hài lòng", "en": "Very dissatisfied"}},
]

# The five factors of the Ministry of Home Affairs' SIPAS index.
SIPAS_CRITERIA = [
    {"code": "access", "label": {"vi": "Tiếp cận dịch vụ", "en": "Access to the service"}},
    {"code": "procedure", "label": {"vi": "Thủ tục hành chính", "en": "The procedure"}},
    {"code": "civil_servant", "label": {"vi": "Công chức trực tiếp giải quyết", "en": "The civil servant"}},
    {"code": "result", "label": {"vi": "Kết quả giải quyết", "en": "The result"}},
    {"code": "feedback", "label": {"vi": "Tiếp nhận, xử lý góp ý, phản ánh, kiến nghị", "en": "Feedback handling"}},
]


def upgrade():
    questionnaire = sa.table(
        "questionnaire",
        sa.column("key", sa.String),
        sa.column("version", sa.Integer),
        sa.column("title", sa.JSON),
        sa.column("levels", sa.JSON),
        sa.column("satisfied", sa.JSON),
        sa.column("criteria", sa.JSON),
        sa.column("published_at", sa.DateTime),
        sa.column("is_default", sa.Boolean),
        sa.column("created_at", sa.DateTime),
    )
    op.bulk_insert(
        questionnaire,
        [
            {
                "key": "one-stop-3",
                "version": 1,
                "title": {"vi": "Đánh giá mức độ hài lòng tại Bộ phận Một cửa (3 mức)", "en": "One-stop desk satisfaction (3 levels)"},
                "levels": ONE_STOP_LEVELS,
                "satisfied": ["rat_hai_long", "hai_long"],
                "criteria": ONE_STOP_CRITERIA,
                "published_at": PUBLISHED,
                "is_default": True,
                "created_at": PUBLISHED,
            },
            {
                "key": "sipas-5",
                "version": 1,
                "title": {"vi": "Chỉ số hài lòng SIPAS (5 mức)", "en": "SIPAS-style satisfaction (5 levels)"},
                "levels": SIPAS_LEVELS,
                "satisfied": ["rat_hai_long", "hai_long"],
                "criteria": SIPAS_CRITERIA,
                "published_at": PUBLISHED,
                "is_default": False,
                "created_at": PUBLISHED,
            },
        ],
    )
    target = sa.table(
        "target",
        sa.column("rate", sa.Float),
        sa.column("valid_from", sa.Date),
        sa.column("valid_to", sa.Date),
        sa.column("scope", sa.String),
        sa.column("note", sa.String),
    )
    op.bulk_insert(
        target,
        [
            {"rate": 0.60, "valid_from": date(2011, 1, 1), "valid_to": date(2015, 12, 31), "scope": "all",
             "note": "Chương trình tổng thể cải cách hành chính 2011–2020, giai đoạn 2011–2015"},
            {"rate": 0.80, "valid_from": date(2016, 1, 1), "valid_to": date(2020, 12, 31), "scope": "all",
             "note": "Nghị quyết 30c/NQ-CP: trên 80% vào năm 2020"},
            {"rate": 0.90, "valid_from": date(2021, 1, 1), "valid_to": None, "scope": "all",
             "note": "Mặc định từ 2021; chỉnh sửa theo kế hoạch của tỉnh"},
        ],
    )


def downgrade():
    op.execute("DELETE FROM target WHERE scope = 'all' AND agency_id IS NULL AND kind IS NULL")
    op.execute("DELETE FROM questionnaire WHERE key IN ('one-stop-3', 'sipas-5') AND version = 1")
