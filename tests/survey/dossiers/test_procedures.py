"""Procedure lists per province: imported and updated by code; an agency's province."""

from __future__ import annotations

from survey import dossiers
from survey.dossiers import (
    PROCEDURE_HEADER,
    import_procedures,
)
from survey.models import Level, Procedure
from tests.conftest import count
from tests.survey.dossiers.conftest import dossier_file

PROCEDURES = [
    ["1.004227", "Cấp bản sao trích lục hộ tịch", "Hộ tịch", "Copy of a civil status extract"],
    ["2.000908", "Chứng thực bản sao từ bản chính", "Chứng thực", ""],
]


def test_procedures_are_imported_per_province_and_updated_by_code(make_agency):
    province = make_agency(code="HL", name="Tỉnh Hài Long", level=Level.PROVINCE)
    result = import_procedures(dossier_file(PROCEDURES, header=PROCEDURE_HEADER))
    assert result.ok and result.created == 2
    stored = dossiers.procedure_names(province.id)
    assert stored["1.004227"].field == "Hộ tịch"
    assert stored["2.000908"].name_en is None
    changed = [
        PROCEDURES[0],
        ["2.000908", "Chứng thực bản sao từ bản chính", "Chứng thực", "Certified copy"],
    ]
    result = import_procedures(dossier_file(changed, header=PROCEDURE_HEADER))
    assert (result.created, result.updated, result.unchanged) == (0, 1, 1)
    # A second province: the choice is required, and lists are kept apart.
    other = make_agency(code="HB", name="Tỉnh Hòa Bình", level=Level.PROVINCE)
    result = import_procedures(dossier_file(PROCEDURES, header=PROCEDURE_HEADER))
    assert not result.ok and "province" in result.errors[0].message
    result = import_procedures(dossier_file(PROCEDURES[:1], header=PROCEDURE_HEADER), province="HB")
    assert result.ok and set(dossiers.procedure_names(other.id)) == {"1.004227"}
    assert count(Procedure) == 3
    result = import_procedures(dossier_file(PROCEDURES, header=PROCEDURE_HEADER), province="NOPE")
    assert not result.ok and count(Procedure) == 3


def test_procedure_rows_with_errors_import_nothing(make_agency):
    make_agency(code="HL", level=Level.PROVINCE)
    rows = [PROCEDURES[0], ["1 004227", "Tên", "Hộ tịch", ""], ["1.1", "", "", ""], PROCEDURES[0]]
    result = import_procedures(dossier_file(rows, header=PROCEDURE_HEADER))
    assert [(e.row, e.column) for e in result.errors] == [
        (3, "code"),
        (4, "name"),
        (4, "field"),
        (5, "code"),
    ]
    assert count(Procedure) == 0


def test_province_of_walks_up_the_tree(make_agency):
    province = make_agency(level=Level.PROVINCE)
    department = make_agency(parent=province, level=Level.DEPARTMENT)
    unit = make_agency(parent=department, level=Level.SERVICE_UNIT)
    assert dossiers.province_of(unit) is province
    assert dossiers.province_of(province) is province
