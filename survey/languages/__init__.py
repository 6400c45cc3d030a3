"""Language packs that administrators add (Tày, Nùng, H'Mông, Dao, Khmer, ...) beside the
compiled Vietnamese and English catalogues.

A pack belongs to one language and one questionnaire version: it holds the citizen page's and
the kiosk's texts (a bounded set, `strings.UI`) and the questionnaire's wording (the question,
the title, the level labels and the criteria). Any text left empty falls back to Vietnamese.
Once ratings were given in a pack's language, its wording is locked, so that a report never
mixes two wordings under one questionnaire version: a change is a new questionnaire version.
"""
