"""`flask translate ...`: extract, update, compile and check the catalogues.

Each area has its own catalogue in `translations/<area>/`, with a `sources.txt` listing the
files and folders its strings come from, so that areas can be translated independently.
Flask-Babel merges all of them at run time into one catalogue per language, where the last
area loaded wins a msgid that several areas share. So `translate check` also fails on a msgid
translated two ways (the losing area would never show its wording), and on Vietnamese wording
that breaks the project's terms (`TERMS`).
"""

from __future__ import annotations

import re
import sys
import tempfile
from collections import defaultdict
from pathlib import Path

import click
from babel.messages.frontend import CommandLineInterface
from babel.messages.pofile import read_po
from flask.cli import AppGroup

from survey import PROJECT_ROOT

TRANSLATIONS = PROJECT_ROOT / "translations"
LOCALES = ("vi", "en")
KEYWORDS = ["-k", "_l", "-k", "lazy_gettext", "-k", "ngettext:1,2", "-k", "lazy_ngettext:1,2"]

translate = AppGroup("translate", help="Extract, update, compile and check the vi/en catalogues.")


def area_dirs() -> list[Path]:
    return sorted(p for p in TRANSLATIONS.iterdir() if (p / "sources.txt").is_file())


def translation_directories() -> str:
    """All catalogue folders, for Flask-Babel's BABEL_TRANSLATION_DIRECTORIES."""
    return ";".join(str(p) for p in area_dirs())


def _sources(area: Path) -> list[str]:
    lines = (area / "sources.txt").read_text().splitlines()
    return [
        str(PROJECT_ROOT / line.strip())
        for line in lines
        if line.strip() and not line.startswith("#")
    ]


def _babel(*args: str) -> None:
    CommandLineInterface().run(["pybabel", "-q", *args])


def _extract(area: Path, pot: Path) -> None:
    _babel(
        "extract",
        "-F",
        str(PROJECT_ROOT / "babel.cfg"),
        *KEYWORDS,
        "--no-location",
        "--sort-output",
        "-o",
        str(pot),
        *_sources(area),
    )


@translate.command("update")
@click.argument("areas", nargs=-1)
def update(areas: tuple[str, ...]) -> None:
    """Extract strings and update (or create) the vi and en catalogues of AREAS (default: all)."""
    for area in area_dirs():
        if areas and area.name not in areas:
            continue
        with tempfile.TemporaryDirectory() as tmp:
            pot = Path(tmp) / "messages.pot"
            _extract(area, pot)
            for locale in LOCALES:
                po = area / locale / "LC_MESSAGES" / "messages.po"
                command = "update" if po.exists() else "init"
                extra = ["--no-fuzzy-matching", "--ignore-obsolete"] if command == "update" else []
                _babel(command, "-i", str(pot), "-d", str(area), "-l", locale, *extra)
        click.echo(f"updated {area.name}")


@translate.command("compile")
def compile_catalogues() -> None:
    """Compile every area's catalogues to .mo files."""
    for area in area_dirs():
        _babel("compile", "-d", str(area), "--use-fuzzy")


def untranslated() -> list[tuple[str, str]]:
    """(area, msgid) pairs whose Vietnamese translation is missing, for the source as it is now."""
    missing = []
    for area in area_dirs():
        with tempfile.TemporaryDirectory() as tmp:
            pot = Path(tmp) / "messages.pot"
            _extract(area, pot)
            with pot.open("rb") as f:
                wanted = {m.id for m in read_po(f) if m.id}
        po = area / "vi" / "LC_MESSAGES" / "messages.po"
        have: dict = {}
        if po.exists():
            with po.open("rb") as f:
                have = {m.id: m for m in read_po(f) if m.id}
        for msgid in sorted(wanted, key=str):
            message = have.get(msgid)
            strings = message.string if message else None
            if isinstance(strings, tuple | list):
                ok = all(strings)
            else:
                ok = bool(strings)
            if not ok or (message is not None and message.fuzzy):
                missing.append((area.name, msgid if isinstance(msgid, str) else msgid[0]))
    return missing


def _translations(locale: str):
    """(area, msgid, translation) for every translated message of `locale`'s catalogues."""
    for area in area_dirs():
        po = area / locale / "LC_MESSAGES" / "messages.po"
        if not po.exists():
            continue
        with po.open("rb") as f:
            for message in read_po(f):
                if message.id and message.string and not message.fuzzy:
                    strings = message.string
                    text = tuple(strings) if isinstance(strings, tuple | list) else strings
                    yield area.name, message.id, text


def conflicts() -> list[tuple[str, str, dict[str, str]]]:
    """(locale, msgid, {area: translation}) for msgids translated two ways across areas.

    Flask-Babel merges the areas' catalogues and the last one wins, so the other wording would
    silently never show. Translate a shared msgid the same way everywhere, or reword one msgid.
    """
    found = []
    for locale in LOCALES:
        seen: dict = defaultdict(dict)
        for area, msgid, text in _translations(locale):
            seen[msgid][area] = text
        for msgid, by_area in seen.items():
            if len(set(by_area.values())) > 1:
                key = msgid if isinstance(msgid, str) else msgid[0]
                found.append((locale, key, {a: str(t) for a, t in by_area.items()}))
    return sorted(found)


# The project's Vietnamese terms. Each rule is a pattern that must not appear in a Vietnamese
# translation, and what to write instead.
TERMS: list[tuple[re.Pattern, str]] = [
    (
        re.compile(r"\bki-?ốt\b|\bkiosk", re.IGNORECASE),
        "a kiosk is 'máy đánh giá' (the channel: 'máy đánh giá tại quầy'), not 'kiosk' or 'ki-ốt'",
    ),
    (
        re.compile(r"\b(bạn|quý khách|anh/chị|anh chị)\b", re.IGNORECASE),
        "citizens are addressed as 'Ông/Bà'; staff pages speak impersonally "
        "('tài khoản này', 'vui lòng ...')",
    ),
    (
        re.compile(r"(?!Ông/Bà)(?i:\bông\s*/\s*bà\b)"),
        "write 'Ông/Bà', with both capitals and no spaces",
    ),
]


def term_problems() -> list[tuple[str, str, str, str]]:
    """(area, msgid, translation, rule) for Vietnamese translations that break `TERMS`."""
    found = []
    for area, msgid, text in _translations("vi"):
        for string in text if isinstance(text, tuple) else (text,):
            for pattern, rule in TERMS:
                if pattern.search(string):
                    key = msgid if isinstance(msgid, str) else msgid[0]
                    found.append((area, key, string, rule))
    return found


@translate.command("check")
def check() -> None:
    """List untranslated strings, msgids translated two ways and wording against the terms;
    exit 1 if there are any."""
    missing = untranslated()
    for area, msgid in missing:
        click.echo(f"{area}: {msgid}")
    clashes = conflicts()
    for locale, msgid, by_area in clashes:
        click.echo(f"{locale}: {msgid!r} is translated differently by area:")
        for area, text in by_area.items():
            click.echo(f"    {area}: {text!r}")
    terms = term_problems()
    for area, msgid, text, rule in terms:
        click.echo(f"{area}: {msgid!r} -> {text!r}: {rule}")
    if missing or clashes or terms:
        sys.exit(1)
    click.echo(
        "All strings have a Vietnamese translation, one translation per msgid, terms consistent."
    )


@translate.command("fill")
@click.argument("area")
@click.argument("mapping", type=click.File("rb"))
@click.option("--locale", default="vi", show_default=True)
def fill(area: str, mapping, locale: str) -> None:
    """Set translations in AREA's catalogue from a JSON object {msgid: translation}.

    Run `flask translate update AREA` first so the catalogue has the msgids.
    """
    import json

    from babel.messages.pofile import write_po

    strings = json.load(mapping)
    po = TRANSLATIONS / area / locale / "LC_MESSAGES" / "messages.po"
    with po.open("rb") as f:
        catalog = read_po(f)
    unknown = [key for key in strings if key not in catalog]
    for message in catalog:
        if message.id in strings:
            message.string = strings[message.id]
            message.flags.discard("fuzzy")
    with po.open("wb") as f:
        # The width pybabel update writes (76), so that update and fill make the same file.
        write_po(f, catalog, width=76, omit_header=False, no_location=True)
    click.echo(f"{area}/{locale}: set {len(strings) - len(unknown)} strings")
    for key in unknown:
        click.echo(f"  not in the catalogue (run `flask translate update {area}`): {key}", err=True)
