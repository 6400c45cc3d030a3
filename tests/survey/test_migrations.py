"""The schema comes only from Alembic: an empty database upgraded to head matches the models."""

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade

from survey.extensions import db
from survey.models import Questionnaire, Target
from tests.conftest import count


def test_migrated_database_matches_the_models(app):
    # The `app` fixture's database was upgraded from empty to head through Alembic.
    with db.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        diff = compare_metadata(context, db.metadata)
    assert diff == []


def test_reference_data_ships_two_questionnaires_and_three_targets(app):
    default = Questionnaire.default()
    assert default.key == "one-stop-3" and default.is_published
    assert [lvl["label"]["vi"] for lvl in default.levels] == [
        "Rất hài lòng",
        "Hài lòng",
        "Không hài lòng",
    ]
    assert default.satisfied == ["rat_hai_long", "hai_long"]
    assert len(default.criteria) == 9
    assert count(Questionnaire) == 2
    assert sorted(t.rate for t in db.session.scalars(db.select(Target))) == [0.6, 0.8, 0.9]


def test_downgrade_to_base_and_upgrade_again(app):
    downgrade(revision="base")
    upgrade()
    assert count(Questionnaire) == 2


def test_running_the_migrations_leaves_the_apps_logger_working(app):
    """Alembic's logging set-up used to disable every logger that existed: after a migration in
    the same process, the app's warnings (e.g. a kiosk's dropped ratings) were lost."""
    import logging

    app.logger.warning("before")
    upgrade()
    seen = []
    handler = logging.Handler()
    handler.emit = seen.append
    app.logger.addHandler(handler)
    try:
        app.logger.warning("after the migrations")
    finally:
        app.logger.removeHandler(handler)
    assert [record.getMessage() for record in seen] == ["after the migrations"]
