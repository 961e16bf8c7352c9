"""The Contacts page on a real database, GUI thread banned from database I/O: the list and its
filters, editing and saving, a stale save, CSV import (good and bad) and export through
injected file choices, merging duplicates through the dialog, read-only persons, and
screenshots (/tmp/contacts-page.png, /tmp/contacts-import-errors.png)."""

from __future__ import annotations

import uuid
from collections.abc import Generator, Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, TypeVar

import psycopg
import pytest
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot
from support import off_gui, profile_for

from factorypulse_desktop.domain.enums import ContactType
from factorypulse_desktop.services import contacts
from factorypulse_desktop.services.auth import ConnectionProfile, Workspace, sign_in
from factorypulse_desktop.services.contacts_csv import (
    ContactsImportError,
    ImportReport,
    parse_contacts_csv,
)
from factorypulse_desktop.services.io_guard import (
    allow_database_io_on_current_thread,
    forbid_database_io_on_current_thread,
)
from factorypulse_desktop.ui import theme
from factorypulse_desktop.ui.dialogs.contact_dialogs import (
    ContactConflictDialog,
    DuplicatesDialog,
    ImportErrorsDialog,
)
from factorypulse_desktop.ui.pages.contacts import ContactsPage
from factorypulse_desktop.ui.tasks import TaskRunner

PASSWORD = "factorypulse-demo"
T = TypeVar("T")


def owner_conn(db: Any) -> psycopg.Connection[Any]:
    return psycopg.connect(db.owner_conninfo(), autocommit=True)




def owner_rows(db: Any, sql: str, *args: Any) -> list[tuple[Any, ...]]:
    def run() -> list[tuple[Any, ...]]:
        with owner_conn(db) as conn:
            cur = conn.execute(sql, args)
            return list(cur.fetchall()) if cur.description else []
    return off_gui(run)


@dataclass
class Setup:
    page: ContactsPage
    workspace: Workspace
    runner: TaskRunner
    db: Any
    org: uuid.UUID
    profile: ConnectionProfile


def _profile(db: Any) -> ConnectionProfile:
    return profile_for(db)


def _open(qtbot: QtBot, db: Any, username: str) -> Generator[Setup, None, None]:
    profile = _profile(db)
    workspace = sign_in(profile, username, PASSWORD)
    runner = TaskRunner()
    page: ContactsPage | None = None
    forbid_database_io_on_current_thread()
    try:
        org = workspace.identity.memberships[0].organization_id
        page = ContactsPage(runner, workspace, org)
        qtbot.addWidget(page)
        page.resize(1280, 800)
        page.show()
        qtbot.waitUntil(lambda: page.model.rowCount() > 0, timeout=15000)
        yield Setup(page, workspace, runner, db, org, profile)
    finally:
        if page is not None and page.dialog is not None:
            page.dialog.close()
        runner.shutdown(timeout_ms=5000)
        allow_database_io_on_current_thread()
        workspace.close()


@pytest.fixture
def sales(qtbot: QtBot, qapp: QApplication, demo_db: Any) -> Iterator[Setup]:
    yield from _open(qtbot, demo_db, "acme.sales")


@pytest.fixture
def admin(qtbot: QtBot, qapp: QApplication, demo_db: Any) -> Iterator[Setup]:
    yield from _open(qtbot, demo_db, "acme.admin")


def acme_contacts(db: Any, where: str = "TRUE") -> set[uuid.UUID]:
    return {r[0] for r in owner_rows(
        db, f"SELECT c.id FROM contacts c JOIN organizations o ON o.id = c.organization_id "
            f"WHERE o.slug = 'acme' AND ({where})")}


def open_first(qtbot: QtBot, page: ContactsPage, company: str | None = None) -> None:
    rows = page.model.rows()
    row = next(i for i, r in enumerate(rows) if company is None or r.company_name == company)
    with qtbot.waitSignal(page.sig_contact_loaded, timeout=10000):
        page.table.selectRow(row)


# -- the list ---------------------------------------------------------------------------------


def test_the_page_lists_contacts_and_filters(qtbot: QtBot, sales: Setup) -> None:
    page = sales.page
    active = acme_contacts(sales.db, "c.is_active")
    assert {r.id for r in page.model.rows()} == active
    assert page.count_label.text() == f"{len(active)} contacts"
    names = [r.company_name.lower() for r in page.model.rows()]
    assert names == sorted(names), "by company at first"
    assert not page.read_only_note.isVisible() and page.new_button.isEnabled()

    with qtbot.waitSignal(page.sig_loaded, timeout=10000):
        page.type_filter.setCurrentIndex(page.type_filter.findData("supplier"))
    assert {r.id for r in page.model.rows()} == acme_contacts(
        sales.db, "c.is_active AND c.type = 'supplier'")
    assert all(r.type is ContactType.SUPPLIER for r in page.model.rows())

    supplier = page.model.rows()[0]
    word = supplier.company_name.split()[0].upper()
    with qtbot.waitSignal(page.sig_loaded, timeout=10000):
        page.search.setText(word)  # debounced
    assert supplier.id in {r.id for r in page.model.rows()}
    assert all(word.lower() in f"{r.company_name} {r.contact_name} {r.email} {r.city}".lower()
               for r in page.model.rows())

    with qtbot.waitSignal(page.sig_loaded, timeout=10000):
        page.search.clear()
    with qtbot.waitSignal(page.sig_loaded, timeout=10000):
        page.type_filter.setCurrentIndex(0)
    qtbot.waitUntil(lambda: page.tag_filter.count() > 1, timeout=10000)
    tag = page.tag_filter.itemText(1)
    with qtbot.waitSignal(page.sig_loaded, timeout=10000):
        page.tag_filter.setCurrentIndex(1)
    assert page.model.rows() and all(
        tag.casefold() in {t.casefold() for t in r.capability_tags} for r in page.model.rows())

    open_first(qtbot, page)
    shown = page.detail
    assert shown is not None and shown.id == page.model.rows()[0].id
    assert page.editor.lines["company_name"].text() == shown.company_name
    assert page.detail_title.text() == shown.company_name


# -- editing ----------------------------------------------------------------------------------


def test_editing_and_saving_a_contact_stores_it(qtbot: QtBot, sales: Setup) -> None:
    page = sales.page
    open_first(qtbot, page)
    shown = page.detail
    assert shown is not None
    assert not page.save_button.isEnabled(), "nothing typed yet"
    page.editor.lines["phone"].setText("  +1 512 555 0142 ")
    page.editor.lines["capability_tags"].setText("Laser cutting, laser CUTTING, Welding")
    page.editor.lines["credit_limit"].setText("12 500,75")
    assert page.save_button.isEnabled()
    with qtbot.waitSignal(page.sig_saved, timeout=10000) as saved:
        page.save_button.click()
    detail = saved.args[0]
    assert detail.version == shown.version + 1
    stored = owner_rows(sales.db, "SELECT phone, capability_tags, credit_limit::text, version "
                                  "FROM contacts WHERE id = %s", shown.id)
    assert stored == [("+1 512 555 0142", ["Laser cutting", "Welding"], "12500.75",
                       detail.version)]
    assert page.editor.lines["phone"].text() == "+1 512 555 0142", "the saved value shown"
    assert not page.save_button.isEnabled()
    assert "was saved" in page.banner.text
    row = page.model.rows()[page.model.row_of(shown.id)]
    assert row.version == detail.version and row.phone == "+1 512 555 0142", "in place"

    # A bad value is refused before anything is sent; the typed text stays.
    page.editor.lines["email"].setText("not an address")
    page.save_button.click()
    assert "is not an e-mail address" in page.editor.error.text()
    assert page.editor.lines["email"].text() == "not an address"
    assert owner_rows(sales.db, "SELECT version FROM contacts WHERE id = %s",
                      shown.id) == [(detail.version,)]

    # Choosing another contact with unsaved changes asks first; "no" keeps everything.
    asked: list[bool] = []
    page.confirm_discard = lambda: asked.append(True) or False
    this_row = page.model.row_of(shown.id)
    other_row = 1 if this_row == 0 else 0
    page.table.selectRow(other_row)
    assert asked == [True]
    qtbot.waitUntil(lambda: [i.row() for i in page.table.selectionModel().selectedRows()]
                    == [this_row], timeout=5000)
    assert page.editor.lines["email"].text() == "not an address"
    page.confirm_discard = lambda: True
    with qtbot.waitSignal(page.sig_contact_loaded, timeout=10000) as loaded:
        page.table.selectRow(other_row)
    assert loaded.args[0].id == page.model.rows()[other_row].id
    assert not page.save_button.isEnabled()


def test_a_new_contact_is_added_and_listed(qtbot: QtBot, sales: Setup) -> None:
    page = sales.page
    page.new_button.click()
    assert page.editing_new and page.detail_title.text() == "New contact"
    page.save_button.click()
    assert "Company name is required" in page.editor.error.text()
    page.editor.lines["company_name"].setText("Aardvark Anodizing LLC")
    page.editor.type_box.setCurrentIndex(page.editor.type_box.findData("supplier"))
    page.editor.lines["city"].setText("Austin")
    with qtbot.waitSignal(page.sig_loaded, timeout=10000):  # the list is read again
        page.save_button.click()
    made = page.detail
    assert made is not None and made.company_name == "Aardvark Anodizing LLC"
    assert made.type is ContactType.SUPPLIER
    assert made.id in {r.id for r in page.model.rows()}
    assert page.table.selectionModel().selectedRows()[0].row() == page.model.row_of(made.id)
    assert owner_rows(sales.db, "SELECT created_by FROM contacts WHERE id = %s",
                      made.id) == [(sales.workspace.identity.person_id,)]


def test_a_stale_save_shows_the_conflict_and_keeps_the_typed_text(
    qtbot: QtBot, sales: Setup
) -> None:
    page = sales.page
    open_first(qtbot, page)
    shown = page.detail
    assert shown is not None
    # Someone else saves first (another person, another connection).
    other = off_gui(lambda: sign_in(sales.profile, "acme.management", PASSWORD))
    try:
        theirs = off_gui(lambda: contacts.save_contact(
            other, sales.org, shown.id, replace(shown.as_edit(), city="Their City"),
            shown.version))
    finally:
        off_gui(other.close)
    page.editor.lines["city"].setText("My City")
    page.editor.notes.setPlainText("Typed by me.")
    with qtbot.waitSignal(page.sig_save_failed, timeout=10000):
        page.save_button.click()
    dialog = page.dialog
    assert isinstance(dialog, ContactConflictDialog)
    assert "Someone else saved this contact" in page.banner.text
    cells = {dialog.table.item(r, 0).text(): (dialog.table.item(r, 1).text(),
                                              dialog.table.item(r, 2).text())
             for r in range(dialog.table.rowCount())}
    assert cells["City"] == ("My City", "Their City")
    assert page.editor.lines["city"].text() == "My City", "typed text kept"
    assert page.editor.notes.toPlainText() == "Typed by me."
    assert owner_rows(sales.db, "SELECT city, version FROM contacts WHERE id = %s",
                      shown.id) == [("Their City", theirs.version)]

    dialog.mine_button.click()  # keep mine: it replaces theirs on the next save
    assert page.dialog is None
    assert page.editor.lines["city"].text() == "My City" and page.save_button.isEnabled()
    with qtbot.waitSignal(page.sig_saved, timeout=10000):
        page.save_button.click()
    assert owner_rows(sales.db, "SELECT city, notes FROM contacts WHERE id = %s",
                      shown.id) == [("My City", "Typed by me.")]


def test_archive_restore_and_a_change_elsewhere_in_place(qtbot: QtBot, sales: Setup) -> None:
    page = sales.page
    open_first(qtbot, page)
    shown = page.detail
    assert shown is not None
    with qtbot.waitSignal(page.sig_saved, timeout=10000):
        page.archive_button.click()
    assert owner_rows(sales.db, "SELECT is_active FROM contacts WHERE id = %s",
                      shown.id) == [(False,)]
    assert page.archive_button.text() == "Restore" and page.status_chip.text() == "Archived"
    assert "(archived)" in page.model.index(page.model.row_of(shown.id), 0).data()
    with qtbot.waitSignal(page.sig_saved, timeout=10000):
        page.archive_button.click()
    assert owner_rows(sales.db, "SELECT is_active FROM contacts WHERE id = %s",
                      shown.id) == [(True,)]

    other = page.model.rows()[1]
    resets: list[bool] = []
    page.model.modelReset.connect(lambda: resets.append(True))
    owner_rows(sales.db, "UPDATE contacts SET city = 'Elsewhere' WHERE id = ANY(%s)",
               [other.id, shown.id])
    page.on_contacts_changed([other.id, shown.id])
    qtbot.waitUntil(lambda: page.model.rows()[1].city == "Elsewhere"
                    and page.editor.lines["city"].text() == "Elsewhere", timeout=10000)
    assert resets == [], "rows changed in place"


# -- import and export ------------------------------------------------------------------------


GOOD_CSV = (
    "Company name,Type,City,Capabilities\r\n"
    "Brightline Optics,supplier,Rochester,Polishing; Coating\r\n"
    "Cobalt Robotics,customer,Pittsburgh,\r\n"
).encode("utf-8-sig")
BAD_CSV = (
    b"Company name,Type,E-mail,Credit limit\r\n"
    b"Delta Dies,supplier,dd@example.com,1000\r\n"
    b",customer,,\r\n"
    b'Echo Extrusion,vendor,,"1,234"\r\n'
    b"Foxtrot Forge,supplier,,lots\r\n"
    b"Golf Grinding,supplier,golf@,\r\n"
)


def test_importing_a_csv_adds_the_contacts(qtbot: QtBot, sales: Setup,
                                           tmp_path: Path) -> None:
    page = sales.page
    source = tmp_path / "new-contacts.csv"
    source.write_bytes(GOOD_CSV)
    page.choose_import_file = lambda: str(source)
    before = acme_contacts(sales.db)
    with qtbot.waitSignal(page.sig_import_finished, timeout=15000) as finished:
        page.import_button.click()
    report = finished.args[0]
    assert isinstance(report, ImportReport) and report.imported == 2
    assert "2 contacts imported" in page.banner.text
    assert len(acme_contacts(sales.db) - before) == 2
    qtbot.waitUntil(lambda: {"Brightline Optics", "Cobalt Robotics"} <= {
        r.company_name for r in page.model.rows()}, timeout=10000)
    qtbot.waitUntil(lambda: page.tag_filter.findText("Polishing") > 0, timeout=10000)


def test_a_bad_csv_shows_the_problems_and_adds_nothing(qtbot: QtBot, sales: Setup,
                                                       tmp_path: Path) -> None:
    page = sales.page
    source = tmp_path / "bad.csv"
    source.write_bytes(BAD_CSV)
    page.choose_import_file = lambda: str(source)
    before = acme_contacts(sales.db)
    with qtbot.waitSignal(page.sig_import_finished, timeout=15000) as finished:
        page.import_button.click()
    assert isinstance(finished.args[0], ContactsImportError)
    dialog = page.dialog
    assert isinstance(dialog, ImportErrorsDialog)
    assert "No contact was added" in dialog.summary.text()
    table = [(dialog.table.item(r, 0).text(), dialog.table.item(r, 1).text(),
              dialog.table.item(r, 2).text()) for r in range(dialog.table.rowCount())]
    assert len(table) >= 3
    rows = {row for row, _column, _problem in table}
    assert {"3", "4", "5"} <= rows, table
    assert any(column == "Type" and "vendor" in problem for _r, column, problem in table)
    assert any(column == "Credit limit" and "lots" in problem for _r, column, problem in table)
    assert "Nothing was imported" in page.banner.text
    assert acme_contacts(sales.db) == before, "nothing was imported"
    dialog.close_button.click()
    assert page.dialog is None


def test_export_writes_the_file(qtbot: QtBot, sales: Setup, tmp_path: Path) -> None:
    page = sales.page
    target = tmp_path / "export"
    suggested: list[str] = []

    def choose(name: str) -> str:
        suggested.append(name)
        return str(target)

    page.choose_export_file = choose
    with qtbot.waitSignal(page.sig_export_finished, timeout=15000) as finished:
        page.export_button.click()
    written = finished.args[0]
    assert written == tmp_path / "export.csv", "the .csv ending is added"
    assert suggested[0].startswith("contacts-acme-") and suggested[0].endswith(".csv")
    data = off_gui(written.read_bytes)
    assert data.startswith(b"\xef\xbb\xbfType,Company name,Contact name,E-mail,")
    text = data.decode("utf-8-sig")
    assert all(r.company_name in text for r in page.model.rows())
    assert str(written) in page.banner.text


# -- duplicates -------------------------------------------------------------------------------


def test_merging_duplicates_through_the_dialog(qtbot: QtBot, admin: Setup) -> None:
    page = admin.page

    def make() -> tuple[uuid.UUID, uuid.UUID, uuid.UUID]:
        with owner_conn(admin.db) as conn:
            ids = []
            for name, email in (("Gamma Gaskets", None), ("GAMMA  gaskets", "g@gamma.example")):
                row = conn.execute(
                    "INSERT INTO contacts (organization_id, type, company_name, email) VALUES "
                    "(%s, 'supplier', %s, %s) RETURNING id", (admin.org, name, email)).fetchone()
                assert row is not None
                ids.append(row[0])
            project = conn.execute(
                "INSERT INTO projects (organization_id, title, customer_id) VALUES "
                "(%s, 'Gasket set', %s) RETURNING id", (admin.org, ids[1])).fetchone()
            assert project is not None
            conn.execute("INSERT INTO supplier_rfqs (organization_id, project_id, supplier_id, "
                         "rfq_number) VALUES (%s, %s, %s, 'RFQ-GAMMA-1')",
                         (admin.org, project[0], ids[1]))
            return ids[0], ids[1], project[0]

    keep, twin, project = off_gui(make)
    with qtbot.waitSignal(page.sig_duplicates_loaded, timeout=10000):
        page.duplicates_button.click()
    dialog = page.dialog
    assert isinstance(dialog, DuplicatesDialog)
    assert [g.name for g in dialog.groups()] == ["Gamma Gaskets"]
    suggested = dialog.kept()
    assert suggested is not None and suggested.id == twin, "the one with references"
    dialog.set_keep(keep)
    chosen = dialog.kept()
    assert chosen is not None and chosen.id == keep
    questions: list[str] = []
    dialog.confirm = lambda question: questions.append(question) or False
    dialog.merge_button.click()
    assert questions and "Keep “Gamma Gaskets”" in questions[0]
    assert not dialog.busy, "cancelled: nothing sent"

    dialog.confirm = lambda _question: True
    with qtbot.waitSignal(page.sig_merged, timeout=10000) as merged:
        dialog.merge_button.click()
    report = merged.args[0]
    assert report.moved["projects"] == 1 and report.moved["supplier_rfqs"] == 1
    assert "Merged 1 contact into “Gamma Gaskets”" in dialog.message.text()
    assert dialog.groups() == [] and not dialog.merge_button.isEnabled()
    assert owner_rows(admin.db, "SELECT customer_id FROM projects WHERE id = %s",
                      project) == [(keep,)]
    assert owner_rows(admin.db, "SELECT is_active, email FROM contacts WHERE id = ANY(%s) "
                                "ORDER BY is_active", [keep, twin]) == [
        (False, "g@gamma.example"), (True, "g@gamma.example")]
    assert "Merged 1 contact" in page.banner.text
    dialog.close_button.click()
    assert page.dialog is None


# -- read-only persons ------------------------------------------------------------------------


def test_read_only_for_persons_who_may_not_edit(qtbot: QtBot, qapp: QApplication,
                                                demo_db: Any) -> None:
    opened = _open(qtbot, demo_db, "acme.engineering")
    setup = next(opened)
    page = setup.page
    try:
        assert page.read_only_note.isVisible()
        assert "only administrators, management, sales and procurement" in \
            page.read_only_note.text()
        assert not page.new_button.isEnabled() and not page.import_button.isEnabled()
        assert page.export_button.isEnabled(), "reading (and so exporting) is allowed"
        open_first(qtbot, page)
        assert page.editor.lines["company_name"].isReadOnly()
        assert not page.editor.type_box.isEnabled()
        assert not page.archive_button.isEnabled() and not page.save_button.isEnabled()
        page.save()  # does nothing; the database would refuse anyway
        assert not page.banner.isVisible()
        qtbot.wait(200)
        page.grab().save("/tmp/contacts-page-read-only.png")
    finally:
        opened.close()


# -- screenshots ------------------------------------------------------------------------------


def test_screenshot_of_the_page(qtbot: QtBot, qapp: QApplication, demo_db: Any) -> None:
    old_style, old_sheet, old_palette = qapp.style().name(), qapp.styleSheet(), qapp.palette()
    theme.apply(qapp)  # as the app looks
    opened = _open(qtbot, demo_db, "acme.sales")
    setup = next(opened)
    page = setup.page
    try:
        open_first(qtbot, page)
        page.editor.lines["phone"].setText("+1 555 0100")
        qtbot.wait(50)
        page.grab().save("/tmp/contacts-page.png")
        assert Path("/tmp/contacts-page.png").stat().st_size > 10_000
        errors = ImportErrorsDialog(parse_contacts_csv(BAD_CSV).errors, "bad.csv", page)
        errors.resize(820, 380)
        errors.show()
        qtbot.wait(50)
        errors.grab().save("/tmp/contacts-import-errors.png")
        errors.close()
    finally:
        opened.close()
        qapp.setStyleSheet(old_sheet)
        qapp.setPalette(old_palette)
        qapp.setStyle(old_style)
