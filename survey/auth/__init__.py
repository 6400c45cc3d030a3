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
        """The session and the remember cookie hold `<id>.<session_version>` (User.get_id): a
        session from before a sign-out, a password change or reset or a disabling has an older
        version and no longer signs anyone in; neither does any session of a disabled user."""
        user_part, _dot, version = user_id.partition(".")
        if not (user_part.isdigit() and version.isdigit()):
            return None
        user = db.session.get(User, int(user_part))
        if user is None or not user.active or user.session_version != int(version):
            return None
        return user


from survey.auth import views  # noqa: E402,F401  (views register routes on bp)
