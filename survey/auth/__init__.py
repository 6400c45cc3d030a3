from flask import Blueprint

bp = Blueprint("auth", __name__, url_prefix="/auth")


def setup_login(login_manager) -> None:
    from flask_babel import lazy_gettext as _l

    from survey.extensions import db
    from survey.models import User

    login_manager.login_view = "auth.login"
    login_manager.login_message = _l("Please sign in to see this page.")
    login_manager.login_message_category = "info"
    login_manager.session_protection = "basic"

    @login_manager.user_loader
    def load_user(user_id: str):
        if not user_id.isdigit():
            return None
        return db.session.get(User, int(user_id))


from survey.auth import views  # noqa: E402,F401  (views register routes on bp)
