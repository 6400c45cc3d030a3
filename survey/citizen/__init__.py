from flask import Blueprint

from survey.citizen.faces import THANKS, faces
from survey.languages.prompts import page_prompts

bp = Blueprint("citizen", __name__)
# Drawn faces for the rating levels and the thank-you mark, on every page that shows them.
bp.add_app_template_global(faces, "level_faces")
bp.add_app_template_global(THANKS, "thanks_mark")
# Spoken prompts: players that load nothing until pressed (preload="none"), for the page weight.
bp.add_app_template_global(page_prompts, "spoken_prompts")

from survey.citizen import views  # noqa: E402,F401  (views register routes on bp)
