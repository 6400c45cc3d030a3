"""Reading and writing a kiosk's settings JSON."""

from __future__ import annotations

import pytest

from survey.kiosk_settings import DEFAULT_HOURS, KioskSettings, minutes


def test_missing_settings_mean_the_documented_defaults():
    settings = KioskSettings.from_json({})
    assert (settings.cooldown_seconds, settings.idle_seconds) == (10, 30)
    assert settings.hours == DEFAULT_HOURS
    assert settings.criteria == ()


def test_settings_survive_a_round_trip_through_json():
    settings = KioskSettings(
        cooldown_seconds=3,
        idle_seconds=45,
        hours={**DEFAULT_HOURS, "sun": ("08:00", "11:00"), "sat": None},
        criteria=("attitude",),
    )
    assert KioskSettings.from_json(settings.to_json()) == settings


@pytest.mark.parametrize(
    "stored",
    [
        None,
        [],
        {"cooldown_seconds": 0, "idle_seconds": "30"},
        {"cooldown_seconds": True, "idle_seconds": 10_000},
        {"criteria": ["a", "b", "c"]},
        {"criteria": "attitude"},
    ],
)
def test_unreadable_values_fall_back_to_defaults_instead_of_breaking_the_kiosk(stored):
    settings = KioskSettings.from_json(stored)
    assert (settings.cooldown_seconds, settings.idle_seconds) == (10, 30)
    assert settings.criteria == ()


@pytest.mark.parametrize("span", [["17:00", "08:00"], ["7:00", "17:00"], ["07:00"], "07:00-17:00"])
def test_an_unreadable_day_counts_as_closed(span):
    assert KioskSettings.from_json({"hours": {"mon": span}}).hours["mon"] is None


def test_opening_minutes_run_monday_to_sunday_and_2359_means_midnight():
    settings = KioskSettings.from_json(
        {"hours": {"mon": ["07:30", "17:00"], "sun": ["00:00", "23:59"]}}
    )
    opening = settings.opening_minutes()
    assert opening[0] == [450, 1020]
    assert opening[5] == [minutes("07:00"), minutes("11:30")]
    assert opening[6] == [0, 1440]
