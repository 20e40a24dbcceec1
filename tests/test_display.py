"""The display helpers: what a person reads on a page."""

from __future__ import annotations

import math
from datetime import UTC, date, datetime
from decimal import Decimal

import pandas as pd

from core import display


def test_missing_values_read_as_a_dash():
    for value in (None, float("nan"), math.nan, pd.NaT, pd.NA, "", "  ", Decimal("NaN")):
        assert display.text(value) == "—", value
    assert display.text(0) == "0"
    assert display.text("Acme") == "Acme"


def test_titles_come_from_the_catalogue_or_the_database():
    assert display.title("a1_drivers_map") == "Drivers map for your company"
    assert display.title("unit_1_systems_thinking") == "Systems thinking"
    assert display.title("business_foundations") == "Business Foundations"
    # An admin's edit in the database wins over the built-in title.
    assert display.title("a1_drivers_map", {"a1_drivers_map": "Revenue drivers"}) == "Revenue drivers"
    # Never the raw key, even for a key the catalogue does not know.
    assert display.title("old_findings") == "Old findings"
    assert display.title(None) == "—"


def test_role_names():
    assert display.role_name("program_lead") == "Program lead"
    assert display.role_name("admin") == "Admin"
    assert display.role_name("instructor") == "Instructor"
    assert display.role_name("project_lead") == "Project lead"
    assert display.role_name(None) == "—"


def test_times_are_local_without_the_offset(monkeypatch):
    monkeypatch.setenv("NGI_TIMEZONE", "America/New_York")
    moment = datetime(2026, 12, 2, 14, 14, tzinfo=UTC)
    assert display.when(moment) == "2 Dec 2026, 09:14"
    # The database hands back naive UTC on SQLite.
    assert display.when(datetime(2026, 12, 2, 14, 14)) == "2 Dec 2026, 09:14"
    assert display.when(pd.Timestamp(moment)) == "2 Dec 2026, 09:14"
    assert display.when("2026-12-02T14:14:00+00:00") == "2 Dec 2026, 09:14"
    assert display.when(pd.NaT) == "—"
    assert "+00:00" not in display.when(moment)
    assert display.zone_note() == "Times in America/New_York"
    monkeypatch.setenv("NGI_TIMEZONE", "Asia/Taipei")
    assert display.when(moment) == "2 Dec 2026, 22:14"
    assert display.zone_note() == "Times in Asia/Taipei"


def test_days(monkeypatch):
    monkeypatch.setenv("NGI_TIMEZONE", "America/New_York")
    assert display.day(date(2026, 3, 7)) == "7 Mar 2026"
    # 02:00 UTC on the 3rd is still the 2nd in New York.
    assert display.day(datetime(2026, 12, 3, 2, 0, tzinfo=UTC)) == "2 Dec 2026"
    assert display.day(None) == "—"


def test_money_keeps_its_currency():
    assert display.money(0.0042) == "$0.0042"
    assert display.money(0.000712) == "$0.00071"
    assert display.money(12.5) == "$12.50"
    assert display.money(0) == "$0.00"
    assert display.money(1234, "TWD") == "TWD 1,234"
    assert display.money(1234.5, "EUR") == "€1,234.50"
    assert display.money(-3.2) == "-$3.20"
    assert display.money(None) == "—"
    assert display.money(float("nan")) == "—"


def test_percentages():
    assert display.percent(0.423) == "42%"
    assert display.percent(0.4256, 1) == "42.6%"
    assert display.percent(1) == "100%"
    assert display.percent(None) == "—"


def test_counts_have_plural_forms():
    assert display.count(0, "finding") == "0 findings"
    assert display.count(1, "finding") == "1 finding"
    assert display.count(3, "finding") == "3 findings"
    assert display.count(1204, "submission") == "1,204 submissions"
    assert display.count(2, "company", "companies") == "2 companies"
    assert display.plural(1, "student") == "student"
    assert "(s)" not in display.count(0, "finding")


def test_numbers_are_rounded_sensibly():
    assert display.number(0.1 + 0.2) == "0.3"
    assert display.number(1234.5678) == "1,234.57"
    assert display.number(2.0) == "2"
    assert display.number(1e-15) == "0"
    assert display.number(0.00042) == "0.00042"
    assert display.number(None) == "—"
    assert display.diff(0.30000000000000004) == "+0.3"
    assert display.diff(-1234.5) == "−1,234.5"
    assert display.diff(-2.2e-16) == "0"
    assert len(display.diff(1 / 3)) <= 6
    assert display.integer(1234.6) == "1,235"


def test_durations_and_flags():
    assert display.duration(45) == "45 min"
    assert display.duration(180) == "3 h"
    assert display.duration(90) == "1 h 30 min"
    assert display.duration(None) == "—"
    assert display.yes_no(True) == "Yes"
    assert display.yes_no(None) == "—"


def test_humanize():
    assert display.humanize("old_findings") == "Old findings"
    assert display.humanize("cost_usd") == "Cost usd"
    assert display.humanize(None) == "—"


def test_frames_show_local_times(monkeypatch):
    monkeypatch.setenv("NGI_TIMEZONE", "America/New_York")
    frame = pd.DataFrame({"at": [pd.Timestamp("2026-12-02 14:14", tz="UTC")], "n": [1]})
    shown = display.local_times(frame)
    assert shown["at"].iloc[0].hour == 9 and str(shown["at"].dt.tz) == "America/New_York"
    assert str(frame["at"].dt.tz) == "UTC"  # the caller's frame is left alone


def test_check_titles_and_titled_frames():
    assert display.check_title("bs_balances") == "Balance sheet balances"
    assert display.check_title("new_check") == "New check"
    frame = pd.DataFrame({"activity": ["a1_drivers_map", None], "n": [1, 2]})
    shown = display.titled(frame, "activity")
    assert list(shown["activity"]) == ["Drivers map for your company", "—"]
    assert frame["activity"].iloc[0] == "a1_drivers_map"  # the caller's frame is left alone
