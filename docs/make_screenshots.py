"""Regenerate the screenshots in docs/images from the real app on the demo database.

    QT_QPA_PLATFORM=offscreen .venv/bin/python docs/make_screenshots.py
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
import threading
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtCore import QEventLoop, QSettings, QTimer
from PySide6.QtWidgets import QApplication, QWidget

IMAGES = Path(__file__).resolve().parent / "images"


def wait_until(app: QApplication, condition, timeout_s: float = 60) -> None:  # type: ignore[no-untyped-def]
    loop = QEventLoop()
    timer = QTimer(interval=50)
    deadline = QTimer(singleShot=True, interval=int(timeout_s * 1000))
    timer.timeout.connect(lambda: condition() and loop.quit())
    deadline.timeout.connect(loop.quit)
    timer.start()
    deadline.start()
    loop.exec()
    timer.stop()  # a timer left running would test its condition on deleted widgets
    deadline.stop()
    if not condition():
        raise SystemExit("timed out waiting for the app")


def save(widget: QWidget, name: str) -> None:
    IMAGES.mkdir(exist_ok=True)
    widget.grab().save(str(IMAGES / name))
    print("wrote", IMAGES / name)


def in_thread(qt_app: QApplication, fn):  # type: ignore[no-untyped-def]
    """Run blocking work (database, network) off the GUI thread, keeping the app alive."""
    box: list = []
    worker = threading.Thread(target=lambda: box.append(fn()), daemon=True)
    worker.start()
    wait_until(qt_app, lambda: not worker.is_alive())
    if not box:
        raise SystemExit("background work failed")
    return box[0]


def drive_screenshots(qt_app: QApplication, app, project_id) -> None:  # type: ignore[no-untyped-def]
    """The Drive dialogs against the test suite's fake Google on 127.0.0.1 (no machine here
    reaches Google), with a few realistic files."""
    tests = Path(__file__).resolve().parents[1] / "tests"
    sys.path[:0] = [str(tests), str(tests / "gdrive")]
    os.environ["OAUTHLIB_INSECURE_TRANSPORT"] = "1"  # the fakes speak http
    import fake_drive
    import fake_google
    import keyring
    from drive_support import Google, browser
    from fake_keyrings import MemoryKeyring

    from factorypulse_desktop.services import drive_settings, gdrive
    from factorypulse_desktop.ui.dialogs.drive_browser import DriveBrowserDialog
    from factorypulse_desktop.ui.dialogs.drive_connect import DriveConnectDialog

    keyring.set_keyring(MemoryKeyring())
    auth = fake_google.FakeGoogle()
    fake_google.serve(auth)
    drive = fake_drive.FakeDrive(auth.access_tokens)
    fake_drive.serve(drive)
    google = Google(auth, drive, gdrive.GoogleEndpoints(auth.auth_uri, auth.token_uri,
                                                        auth.revoke_uri, drive.root_url))
    for name in ("Customer drawings", "Quotes 2026", "Supplier certificates"):
        drive.add_folder(name)
    for name, size, mime in (("Housing rev C.step", 2_400_000, "model/step"),
                             ("Flange DN120.pdf", 310_000, "application/pdf"),
                             ("BOM housing.xlsx", 28_000, "application/vnd.openxmlformats-"
                              "officedocument.spreadsheetml.sheet")):
        drive.add_file(name, os.urandom(size), mime_type=mime)
    ws, org = app.workspace, app.window.organization.organization_id

    def set_up_and_connect() -> object:
        current = drive_settings.load_drive_settings(ws, org)
        drive_settings.save_drive_settings(
            ws, org, client_id=fake_google.CLIENT_ID, client_secret=fake_google.CLIENT_SECRET,
            allow_readonly=False, is_active=True,
            expected_version=current.version if current else None)
        return gdrive.connect(ws, org, gdrive.default_store(), open_browser=browser(google),
                              endpoints=google.endpoints)

    in_thread(qt_app, set_up_and_connect)
    connect = DriveConnectDialog(app.runner, ws, org, endpoints=google.endpoints)
    connect.resize(640, 320)
    connect.show()
    wait_until(qt_app, lambda: connect.loaded)
    qt_app.processEvents()
    save(connect, "drive-connect.png")
    connect.close()
    browser_dialog = DriveBrowserDialog(app.runner, ws, org, project_id,
                                        endpoints=google.endpoints,
                                        formatter=app.window.formatter)
    browser_dialog.resize(900, 600)
    browser_dialog.show()
    wait_until(qt_app, lambda: browser_dialog.loaded and browser_dialog.table.rowCount() > 0)
    browser_dialog.table.selectRow(3)
    qt_app.processEvents()
    save(browser_dialog, "drive-browser.png")
    browser_dialog.close()


def conversation_screenshots(qt_app: QApplication, app, window) -> None:  # type: ignore[no-untyped-def]
    """The approvals inbox, and the busiest project's reviews, messages and timeline."""
    from sqlalchemy import text

    from factorypulse_desktop.services import units

    window.show_area("approvals")
    wait_until(qt_app, lambda: getattr(window.stack.currentWidget(), "loaded", False))
    inbox = window.stack.currentWidget()
    if inbox.table.rowCount():
        inbox.table.selectRow(0)
    wait_until(qt_app, lambda: qt_app.processEvents() or True)
    qt_app.processEvents()
    save(window, "approvals.png")
    busiest = in_thread(qt_app, lambda: units.read(app.workspace, lambda conn: conn.execute(text(
        "SELECT m.project_id FROM messages m JOIN reviews r ON r.project_id = m.project_id "
        "GROUP BY 1 ORDER BY count(DISTINCT m.id) DESC LIMIT 1")).scalar_one()))
    app.open_project(busiest)
    page = window.stack.currentWidget().project_page
    wait_until(qt_app, lambda: page.detail is not None and bool(page.panels))
    for key, name in (("reviews", "project-reviews.png"), ("messages", "project-messages.png"),
                      ("timeline", "project-timeline.png")):
        panel = page.panels.get(key)
        if panel is None:
            continue
        page.tabs.setCurrentWidget(page._panel_tabs[key])
        wait_until(qt_app, lambda panel=panel: getattr(panel, "loaded", True))
        if key == "messages" and panel.thread_list.count():
            panel.thread_list.setCurrentRow(0)
            wait_until(qt_app, lambda panel=panel: panel.loaded)
        qt_app.processEvents()
        save(window, name)
    page.sig_back.emit()
    for key, name in (("notifications", "notifications.png"), ("activity", "activity-log.png")):
        window.show_area(key)
        wait_until(qt_app, lambda: getattr(window.stack.currentWidget(), "loaded", False))
        qt_app.processEvents()
        save(window, name)


def procurement_screenshots(qt_app: QApplication, app, window) -> None:  # type: ignore[no-untyped-def]
    """Purchasing, inventory, production, the shop-floor station and a project's RFQs."""
    from sqlalchemy import text

    from factorypulse_desktop.services import units
    from factorypulse_desktop.ui.station.station_window import StationWindow

    window.show_area("purchasing")
    wait_until(qt_app, lambda: getattr(getattr(window.stack.currentWidget(), "orders", None),
                                       "loaded", False))
    orders = window.stack.currentWidget().orders
    if orders.table.rowCount():
        orders.table.selectRow(0)
    wait_until(qt_app, lambda: orders.detail is not None)
    qt_app.processEvents()
    save(window, "purchasing.png")
    window.show_area("inventory")
    wait_until(qt_app, lambda: getattr(window.stack.currentWidget(), "table", None) is not None
               and window.stack.currentWidget().table.rowCount() > 0)
    qt_app.processEvents()
    save(window, "inventory.png")
    window.show_area("production")
    wait_until(qt_app, lambda: getattr(getattr(window.stack.currentWidget(), "orders", None),
                                       "loaded", False))
    production = window.stack.currentWidget()
    if production.orders.table.rowCount():
        production.orders.table.selectRow(0)
    wait_until(qt_app, lambda: qt_app.processEvents() or True)
    qt_app.processEvents()
    save(window, "production.png")
    number = in_thread(qt_app, lambda: units.read(app.workspace, lambda conn: conn.execute(text(
        "SELECT o.production_number FROM production_orders o JOIN production_operations p "
        "ON p.production_order_id = o.id WHERE o.status IN ('released', 'in_progress') "
        "ORDER BY o.production_number LIMIT 1")).scalar_one()))
    station = StationWindow(app.runner, app.workspace, window.organization.organization_id,
                            window.formatter)
    station.resize(1280, 800)
    station.show()
    station.scan_field.setText(f"OP:{number}:1")
    station.scan_field.returnPressed.emit()
    wait_until(qt_app, lambda: station.operation is not None)
    qt_app.processEvents()
    save(station, "station.png")
    station.close()
    with_rfqs = in_thread(qt_app, lambda: units.read(app.workspace, lambda conn: conn.execute(
        text("SELECT project_id FROM supplier_rfqs GROUP BY 1 ORDER BY count(*) DESC LIMIT 1")
    ).scalar_one()))
    app.open_project(with_rfqs)
    page = window.stack.currentWidget().project_page
    wait_until(qt_app, lambda: page.detail is not None and bool(page.panels))
    page.tabs.setCurrentWidget(page._panel_tabs["supplier_rfqs"])
    panel = page.panels["supplier_rfqs"]
    wait_until(qt_app, lambda: panel.loaded)
    qt_app.processEvents()
    save(window, "project-rfqs.png")
    page.sig_back.emit()


def backup_screenshots(qt_app: QApplication, page) -> None:  # type: ignore[no-untyped-def]
    """Administration → Backups after one "Back up now", and the restore wizard."""
    from factorypulse_desktop.ui.dialogs.restore_dialog import RestoreDialog

    tab = page.backups_tab
    page.tabs.setCurrentWidget(tab)
    wait_until(qt_app, lambda: tab.state is not None)
    tab.back_up_now()
    wait_until(qt_app, lambda: tab.task is None and tab.table.rowCount() > 0
               and tab.table.item(0, 3).text() == "Verified", 180)
    tab.table.selectRow(0)
    qt_app.processEvents()
    save(page, "administration-backups.png")
    backup = tab.selected_backup()
    dialog = RestoreDialog(backup, "factory_pulse_restored_copy", page)
    dialog.understood.setChecked(True)
    dialog.show()
    qt_app.processEvents()
    save(dialog, "restore-dialog.png")
    dialog.close()


def main() -> int:
    base = Path(tempfile.mkdtemp(prefix="fp-shots-"))
    base.chmod(0o711)
    os.environ["FACTORYPULSE_DATA_DIR"] = str(base / "data")
    os.environ["FACTORYPULSE_CONFIG_DIR"] = str(base / "config")
    from factorypulse_desktop.services.profiles import ProfileStore
    from factorypulse_desktop.ui import theme
    from factorypulse_desktop.ui.app import DesktopApp
    from factorypulse_desktop.ui.dialogs.sign_in import SignInDialog

    qt_app = QApplication(sys.argv)
    theme.apply(qt_app)
    settings = QSettings(str(base / "ui.ini"), QSettings.Format.IniFormat)
    settings.setValue("app/used_demo", True)
    app = DesktopApp(demo=True, settings=settings, store=ProfileStore(base / "config"))
    try:
        app.start()
        wait_until(qt_app, lambda: app.window is not None and app.window.has_identity
                   and app.window.connection_state == "online", 120)
        window = app.window
        assert window is not None
        window.resize(1280, 800)
        window.show_area("dashboard")
        # "Loading…" until the data layer has loaded (docs/decisions/0002), then the page.
        wait_until(qt_app, lambda: getattr(window.stack.currentWidget(), "data", None)
                   is not None)
        qt_app.processEvents()
        save(window, "main-window.png")
        save(window, "dashboard.png")
        window.show_area("projects")
        area = window.stack.currentWidget()
        projects = area.list_page  # type: ignore[attr-defined]
        wait_until(qt_app, lambda: projects.model.rowCount() > 0)
        qt_app.processEvents()
        save(window, "projects-list.png")
        projects.show_view(1)
        wait_until(qt_app, lambda: bool(projects.board.columns()))
        qt_app.processEvents()
        save(window, "projects-board.png")
        projects.show_view(0)
        wait_until(qt_app, lambda: projects.model.rowCount() > 0)
        page = area.open_project(projects.model.rows()[0].id)  # type: ignore[attr-defined]
        wait_until(qt_app, lambda: page.detail is not None)
        qt_app.processEvents()
        save(window, "project-page.png")
        page.sig_back.emit()
        window.show_area("documents")
        wait_until(qt_app, lambda: hasattr(window.stack.currentWidget(), "panel"))
        documents = window.stack.currentWidget().panel  # type: ignore[attr-defined]
        wait_until(qt_app, lambda: documents.loaded)
        qt_app.processEvents()
        save(window, "documents.png")
        pdf = next(r for r in documents.model.rows() if (r.file_name or "").endswith(".pdf"))
        documents.preview(pdf)
        preview = documents.dialog
        wait_until(qt_app, lambda: preview.shows_image)
        qt_app.processEvents()
        save(preview, "document-preview.png")
        preview.close()
        # The project with the most documents, on its Documents tab.
        counts: dict[object, int] = {}
        for row in documents.model.rows():
            counts[row.project_id] = counts.get(row.project_id, 0) + 1
        app.open_project(max(counts, key=lambda key: counts[key]))  # type: ignore[arg-type]
        page = window.stack.currentWidget().project_page  # type: ignore[attr-defined]
        wait_until(qt_app, lambda: page.documents_panel is not None
                   and page.documents_panel.loaded)
        page.tabs.setCurrentWidget(page.documents_tab)
        qt_app.processEvents()
        save(window, "project-documents.png")
        # A folder of drawings dropped on the tab, uploaded.
        folder = base / "Drawings rev C"
        (folder / "details").mkdir(parents=True)
        for name, size in (("housing.step", 2_400_000), ("housing.pdf", 180_000),
                           ("details/bracket.dxf", 64_000), ("bom.csv", 3_000)):
            (folder / name).write_bytes(os.urandom(size))
        page.documents_panel.upload_paths([folder])
        upload = page.documents_panel.dialog
        wait_until(qt_app, lambda: upload.ready and upload.table.rowCount() == 4)
        upload.start()
        wait_until(qt_app, lambda: not upload.uploading and upload.uploaded())
        qt_app.processEvents()
        save(upload, "upload.png")
        upload.close()
        page.sig_back.emit()
        window.show_area("contacts")
        contacts = window.stack.currentWidget()
        wait_until(qt_app, lambda: contacts.model.rowCount() > 0)  # type: ignore[attr-defined]
        contacts.table.selectRow(0)  # type: ignore[attr-defined]
        wait_until(qt_app, lambda: qt_app.processEvents() or True)
        qt_app.processEvents()
        save(window, "contacts.png")
        intake = app.open_intake()
        assert intake is not None
        intake.resize(800, 780)
        intake.company.setText("Nordwerk Präzision")
        intake.contact_name.setText("Ines Vogel")
        intake.title.setText("Laser-cut brackets, 400 pcs")
        qt_app.processEvents()
        save(intake, "intake.png")
        intake.confirm_discard = lambda: True  # type: ignore[method-assign]
        intake.reject()
        window.show_area("administration")
        # "Loading…" until the data layer has loaded (docs/decisions/0002), then the page.
        wait_until(qt_app, lambda: hasattr(window.stack.currentWidget(), "people_model"))
        page = window.stack.currentWidget()
        wait_until(qt_app, lambda: page.people_model.rowCount() > 0)  # type: ignore[attr-defined]
        qt_app.processEvents()
        save(page, "administration.png")
        backup_screenshots(qt_app, page)
        conversation_screenshots(qt_app, app, window)
        procurement_screenshots(qt_app, app, window)
        drive_screenshots(qt_app, app, projects.model.rows()[0].id)
        window.show_area("dashboard")
        palette = app.open_palette()
        assert palette is not None
        palette.query.setText("bra")
        palette._run_query()
        wait_until(qt_app, lambda: bool(palette.hits))
        save(palette, "palette.png")
        palette.close()
        window.sign_out_button.click()
        wait_until(qt_app, lambda: isinstance(app.dialog, SignInDialog))
        dialog = app.dialog
        assert isinstance(dialog, SignInDialog)
        dialog.username.setText("globex.sales")
        qt_app.processEvents()
        save(dialog, "sign-in.png")
    finally:
        app.shutdown()
        from factorypulse_desktop.runtime.embedded import EmbeddedCluster

        EmbeddedCluster(base / "data" / "embedded" / "demo").stop()
        shutil.rmtree(base, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
