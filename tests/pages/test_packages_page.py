"""The packages page through AppTest: every role sees it, only admins build, and the
build action changes the database and writes an audit row."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from core import packages
from core.db import make_engine, session_scope
from core.models import AuditLog, LearningCompany, LearningPackage
from tests.sec_support import FIXTURES, register
from tests.support import staff_actor


@pytest.fixture
def prepared(db_url, data_env):
    """Ten curated companies plus RSTD with two package versions (original, restated)."""
    from core import companies

    engine = make_engine(db_url)
    with session_scope(engine) as session:
        companies.seed_curated(session)
    register(engine, "RSTD")
    admin = staff_actor(engine, "admin")
    for fixture in ("original", "restated"):
        packages.build_package(engine, actor=admin, ticker="RSTD", companyfacts=FIXTURES / f"{fixture}.json")
    yield engine
    engine.dispose()


def select_rstd(at):
    at.selectbox(key="pkg_company").set_value("RSTD").run()
    assert not at.exception, at.exception
    return at


@pytest.mark.parametrize("role", ["instructor", "admin", "program_lead"])
def test_page_renders_companies_and_history_for_each_role(prepared, db_url, role, open_page):
    at = select_rstd(open_page("packages", db_url, role))
    overview = at.dataframe[0].value
    assert len(overview) == 11 and {"TSLA", "GSBD", "RSTD"} <= set(overview["Ticker"])
    rstd = overview[overview["Ticker"] == "RSTD"].iloc[0]
    assert rstd["Current version"] == 2 and rstd["Validation"] == "passed" and rstd["Freshness"] == "⚠️ stale"
    history = at.dataframe[1].value
    assert list(history["Version"]) == [2, 1]
    assert any("figures differ" in m.value for m in at.markdown)
    assert (len(at.get("download_button")) == 1) is (role in ("instructor", "admin"))
    assert ("pkg_build" in {b.key for b in at.button}) is (role == "admin")


def test_comparison_highlights_the_restatement(prepared, db_url, open_page):
    at = select_rstd(open_page("packages", db_url, "instructor"))
    text = " ".join(m.value for m in at.markdown)
    assert "figures differ between v1 and v2" in text
    changed = at.dataframe[2].value
    revenue = changed[(changed["Line"] == "Revenue") & (changed["Year"] == "FY2022")].iloc[0]
    assert (revenue["v1"], revenue["v2"]) == (1000.0, 1010.0)


def test_program_lead_is_told_downloads_are_not_for_their_role(prepared, db_url, open_page):
    at = select_rstd(open_page("packages", db_url, "program_lead"))
    assert any("not download" in c.value for c in at.caption)


def test_admin_build_action_stores_a_new_version_and_audits(prepared, db_url, open_page):
    at = select_rstd(open_page("packages", db_url, "admin"))
    at.file_uploader(key="pkg_upload").upload("restated.json", (FIXTURES / "restated.json").read_bytes(),
                                              "application/json")
    at.run()
    at.button(key="pkg_build").click().run()
    assert not at.exception, at.exception
    assert any("Built RSTD v3: passed, current." in s.value for s in at.success)
    with session_scope(prepared) as session:
        current = session.scalars(select(LearningPackage.version).where(LearningPackage.is_current.is_(True))).all()
        audit = session.scalars(select(AuditLog).where(AuditLog.action == "package.build")
                                .order_by(AuditLog.id.desc())).first()
    assert current == [3]
    assert audit.actor_email == "admin@test.ngi" and audit.details["version"] == 3


def test_admin_build_with_bad_file_shows_the_error_and_stores_nothing(prepared, db_url, open_page):
    at = select_rstd(open_page("packages", db_url, "admin"))
    at.file_uploader(key="pkg_upload").upload("facts.json", b"{not json", "application/json")
    at.run()
    at.button(key="pkg_build").click().run()
    assert any("facts.json is not JSON" in e.value for e in at.error)
    with session_scope(prepared) as session:
        assert len(session.scalars(select(LearningPackage)).all()) == 2


def test_admin_adds_and_deactivates_a_company(prepared, db_url, open_page):
    at = open_page("packages", db_url, "admin")
    at.text_input(key="co_ticker").input("LPA")
    at.text_input(key="co_name").input("Logistic Properties of the Americas")
    at.text_input(key="co_cik").input("1997711")
    at.button(key="co_add").click().run()
    assert not at.exception, at.exception
    assert any("Added LPA." in s.value for s in at.success)
    # The browser clears a clear_on_submit form after the submit (AppTest keeps the values).
    assert [f.proto.form.clear_on_submit for f in at.get("form") if f.proto.form.form_id == "co_add_form"] == [True]
    at.selectbox(key="pkg_company").set_value("LPA").run()
    at.button(key="co_toggle").click().run()
    with session_scope(prepared) as session:  # nothing happens before the dialog is answered
        assert session.scalars(select(LearningCompany.is_active).where(LearningCompany.ticker == "LPA")).one()
    assert any("Deactivate **LPA" in m.value for m in at.markdown)
    at.button(key="co_deactivate_confirm").click().run()
    with session_scope(prepared) as session:
        lpa = session.scalars(select(LearningCompany).where(LearningCompany.ticker == "LPA")).one()
        actions = session.scalars(select(AuditLog.action).where(AuditLog.target_id == "LPA")).all()
    assert lpa.is_active is False and actions == ["company.add", "company.deactivate"]
