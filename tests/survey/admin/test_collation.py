"""Names are listed in Vietnamese alphabetical order (ICU's `vi` collation), everywhere."""

from __future__ import annotations

from survey.collation import by_name, sort_key
from survey.models import Level
from survey.reporting.table import _load_tree
from tests.conftest import html

# Each list is in Vietnamese dictionary order; Python's code-point order gets every one wrong.
ALPHABET = ["Xã An Bình", "Xã Ăn Hà", "Xã Âu Lâu", "Xã Bình Minh", "Xã Dương Minh",
            "Xã Đông Thạnh", "Xã Ô Môn", "Xã Ơn Đức", "Xã Vĩnh Lợi"]  # fmt: skip
TONES = ["Xã Ma", "Xã Mà", "Xã Mả", "Xã Mã", "Xã Má", "Xã Mạ"]
NUMBERS = ["Phường 2", "Phường 9", "Phường 10"]


def test_vietnamese_letters_tones_and_numbers_sort_as_in_a_dictionary():
    for names in (ALPHABET, TONES, NUMBERS):
        assert sorted(names) != names
        assert sorted(reversed(names), key=sort_key) == names
    assert sort_key("Xã Đông Thạnh") < sort_key("Xã Vĩnh Lợi")
    # Đ is a letter of its own after D, not a D with a mark.
    assert sort_key("Xã Dương Minh") < sort_key("Xã Đông Thạnh")
    # Case only breaks ties: "xã an" sits with "Xã An", not after every capital.
    assert by_name(["Xã Bình", "xã an", "Xã An"], str) == ["xã an", "Xã An", "Xã Bình"]


def _tree(make_agency, names):
    province = make_agency(code="P", name="Tỉnh Hài Long", level=Level.PROVINCE)
    # Codes in the opposite order to the names, so that a sort by code shows.
    for i, name in enumerate(reversed(names)):
        make_agency(code=f"C{i:02d}", name=name, parent=province)
    return province


def test_the_admin_agency_list_and_the_parent_select_are_in_vietnamese_order(
    admin_client, make_agency
):
    _tree(make_agency, ALPHABET)
    rows = html(admin_client.get("/admin/agencies")).select("#agencies tbody tr")
    names = [row.select_one("a").get_text(strip=True) for row in rows[1:]]
    assert names == ALPHABET
    options = html(admin_client.get("/admin/agencies/new")).select("select#parent option")
    labels = [o.get_text(strip=True).split(" (")[0] for o in options if o["value"]][1:]
    assert labels == ALPHABET


def test_the_report_tree_lists_siblings_in_vietnamese_order(app, make_agency):
    _tree(make_agency, TONES + NUMBERS)
    roots, _nodes = _load_tree(None)
    assert [child.name for child in roots[0].children] == NUMBERS + TONES


def test_the_kiosk_desk_select_is_in_vietnamese_order(admin_client, make_agency, make_desk):
    for i, name in enumerate(reversed(ALPHABET)):
        make_desk(agency=make_agency(code=f"A{i:02d}", name=name), code=f"D{i:02d}")
    options = html(admin_client.get("/admin/kiosks/new")).select("select#desk option")
    agencies = [o.get_text(strip=True).split(" › ")[0] for o in options if o["value"]]
    assert agencies == ALPHABET
