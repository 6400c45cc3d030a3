"""hailong: citizen satisfaction surveys for one-stop administrative desks."""

from __future__ import annotations

import os
from pathlib import Path

from dotenv import load_dotenv
from flask import Flask

from survey.config import config_class

PROJECT_ROOT = Path(__file__).resolve().parent.parent
__version__ = "0.1.0"


def create_app(config: str | dict | None = None) -> Flask:
    """Create the app. `config` is a config name or a dict of overrides (tests use both)."""
    load_dotenv(PROJECT_ROOT / ".env", override=False)
    app = Flask(
        __name__,
        template_folder=str(PROJECT_ROOT / "templates"),
        instance_path=str(PROJECT_ROOT / "instance"),
        instance_relative_config=True,
    )
    overrides = config if isinstance(config, dict) else {}
    name = config if isinstance(config, str) else overrides.pop("CONFIG_NAME", None)
    if not (overrides.get("SECRET_KEY") and overrides.get("SQLALCHEMY_DATABASE_URI")):
        os.makedirs(app.instance_path, exist_ok=True)
    app.config.from_mapping(config_class(name).from_env(app.instance_path))
    app.config.from_mapping(overrides)
    if proxies := app.config.get("TRUSTED_PROXIES", 0):
        from werkzeug.middleware.proxy_fix import ProxyFix

        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=proxies, x_proto=proxies, x_host=proxies)

    from survey import cache, inputs, replica
    from survey.extensions import babel, csrf, db, limiter, login, migrate

    db.init_app(app)
    replica.init_app(app)
    cache.init_app(app)
    migrate.init_app(app, db, directory=str(PROJECT_ROOT / "migrations"))
    inputs.init_app(app)  # before CSRF, so a wrong content type is a 415, not a CSRF error
    csrf.init_app(app)
    limiter.init_app(app)

    from survey import i18n, i18n_tools

    babel.init_app(
        app,
        locale_selector=i18n.select_locale,
        default_translation_directories=i18n_tools.translation_directories(),
    )
    i18n.init_app(app)
    from survey.reporting import formatting

    formatting.init_app(app)
    from survey import periods

    # Looked up at each call: tests pin "today" by replacing periods.local_today.
    app.add_template_global(lambda: periods.local_today(), "local_today")
    app.jinja_env.trim_blocks = True
    app.jinja_env.lstrip_blocks = True

    login.init_app(app)
    from survey.auth import setup_login

    setup_login(login)

    from survey import errors, navigation, security

    errors.init_app(app)
    security.init_app(app)
    navigation.init_app(app)

    register_blueprints(app)
    csrf.exempt(app.blueprints["api"])  # bearer tokens, not cookies: CSRF does not apply

    register_commands(app)
    return app


def register_commands(app: Flask) -> None:
    """Each area's `flask` commands (its `cli.commands`), as the blueprints are registered."""
    from survey import cli
    from survey.admin import cli as admin_cli
    from survey.alerts import cli as alerts_cli
    from survey.dashboard import cli as dashboard_cli
    from survey.followup import cli as followup_cli

    for commands in (
        cli.commands,  # seed-demo, backup-sqlite, purge, translate
        admin_cli.commands,  # imports, exports, posters, mergers, users, API keys
        dashboard_cli.commands,  # report
        alerts_cli.commands,  # alerts run | test-mail
        followup_cli.commands,  # followup draw
    ):
        for command in commands:
            app.cli.add_command(command)


def register_blueprints(app: Flask) -> None:
    """One blueprint per area; see docs/development.md."""
    from survey import (
        admin,
        alerts,
        api,
        auth,
        cases,
        citizen,
        dashboard,
        followup,
        kiosk,
        main,
        public,
        review,
        tickets,
    )

    for blueprint in (
        main.bp,  # front page, health checks
        citizen.bp,  # the signed desk survey
        tickets.bp,  # one-time dossier tickets
        auth.bp,  # sign-in
        api.bp,  # JSON API under /api/v1
        dashboard.bp,  # analysts
        public.bp,  # public results
        review.bp,  # flagged responses
        cases.bp,  # comments the agency answers, and the citizen's page of the answer
        alerts.bp,  # drops, verdicts below target and overdue cases; their e-mails
        followup.bp,  # the follow-up sample of returned dossiers
        admin.bp,  # administration
        kiosk.bp,  # the kiosk screen and enrolment
        kiosk.admin_bp,  # kiosk administration
    ):
        app.register_blueprint(blueprint)
