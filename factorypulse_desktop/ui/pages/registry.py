"""Which areas have a real page, and how each is made.

Page modules are imported inside `make_page`: their services load SQLAlchemy, which the
window must not wait for at start-up (docs/decisions/0002); `DesktopApp` calls this only
after `services.loading.load_data_layer` has run on a worker.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from PySide6.QtWidgets import QWidget

if TYPE_CHECKING:  # the app imports this module at start-up, before psycopg is loaded
    from factorypulse_desktop.services.profiles import ProfileStore
    from factorypulse_desktop.services.workspace import Workspace
    from factorypulse_desktop.ui.events import ChangeBus
    from factorypulse_desktop.ui.formatting import Formatter
    from factorypulse_desktop.ui.tasks import TaskRunner

PAGE_AREAS = frozenset({"dashboard", "projects", "approvals", "contacts", "purchasing",
                        "inventory", "production", "documents", "notifications", "activity",
                        "administration"})


@dataclass(frozen=True)
class PageContext:
    """What a page needs from the app."""

    runner: TaskRunner
    workspace: Workspace
    organization_id: uuid.UUID
    formatter: Formatter
    store: ProfileStore
    bus: ChangeBus
    new_project: Callable[[], object]
    open_project: Callable[[uuid.UUID], None]


def make_page(key: str, ctx: PageContext) -> QWidget | None:
    """The page of area `key`, or None where the area shows a placeholder still."""
    if key == "dashboard":
        from factorypulse_desktop.ui.pages.dashboard import DashboardPage

        board = DashboardPage(ctx.runner, ctx.workspace, ctx.organization_id, ctx.formatter)
        ctx.bus.subscribe("projects", board.on_projects_changed)
        board.sig_open_project.connect(ctx.open_project)
        return board
    if key == "projects":
        from factorypulse_desktop.ui.pages.projects_area import ProjectsArea

        projects = ProjectsArea(ctx.runner, ctx.workspace, ctx.organization_id, ctx.formatter,
                                ctx.bus)
        ctx.bus.subscribe("projects", projects.on_projects_changed)
        projects.sig_new_project.connect(ctx.new_project)
        return projects
    if key == "approvals":
        from factorypulse_desktop.ui.pages.approvals import ApprovalsPage

        inbox = ApprovalsPage(ctx.runner, ctx.workspace, ctx.organization_id, ctx.formatter)
        ctx.bus.subscribe("approvals", inbox.on_approvals_changed)
        ctx.bus.subscribe("approval_steps", inbox.on_approvals_changed)
        inbox.sig_open_project.connect(ctx.open_project)
        return inbox
    if key == "contacts":
        from factorypulse_desktop.ui.pages.contacts import ContactsPage

        contacts = ContactsPage(ctx.runner, ctx.workspace, ctx.organization_id,
                                formatter=ctx.formatter)
        ctx.bus.subscribe("contacts", contacts.on_contacts_changed)
        return contacts
    if key == "purchasing":
        from factorypulse_desktop.ui.pages.purchasing import PurchasingPage

        purchasing = PurchasingPage(ctx.runner, ctx.workspace, ctx.organization_id,
                                    ctx.formatter)
        ctx.bus.subscribe("purchase_orders", purchasing.on_purchase_orders_changed)
        ctx.bus.subscribe("purchase_order_lines", purchasing.on_purchase_order_lines_changed)
        return purchasing
    if key == "inventory":
        from factorypulse_desktop.ui.pages.inventory import InventoryPage

        stock = InventoryPage(ctx.runner, ctx.workspace, ctx.organization_id, ctx.formatter)
        ctx.bus.subscribe("inventory_items", stock.on_inventory_items_changed)
        ctx.bus.subscribe("stock_movements", stock.on_stock_movements_changed)
        return stock
    if key == "production":
        from factorypulse_desktop.ui.pages.production import ProductionPage

        production = ProductionPage(ctx.runner, ctx.workspace, ctx.organization_id,
                                    ctx.formatter)
        ctx.bus.subscribe("production_orders", production.on_production_orders_changed)
        ctx.bus.subscribe("production_operations", production.on_production_operations_changed)
        ctx.bus.subscribe("production_order_materials",
                          production.on_production_order_materials_changed)
        ctx.bus.subscribe("production_events", production.on_production_events_changed)
        return production
    if key == "documents":
        from factorypulse_desktop.ui.pages.documents import DocumentsPage

        documents = DocumentsPage(ctx.runner, ctx.workspace, ctx.organization_id, ctx.formatter)
        ctx.bus.subscribe("documents", documents.on_documents_changed)
        documents.sig_open_project.connect(ctx.open_project)
        return documents
    if key == "notifications":
        from factorypulse_desktop.ui.pages.notifications import NotificationsPage

        notices = NotificationsPage(ctx.runner, ctx.workspace, ctx.organization_id,
                                    ctx.formatter)
        ctx.bus.subscribe("notifications", notices.on_notifications_changed)
        notices.sig_open_project.connect(ctx.open_project)
        return notices
    if key == "activity":  # the activity log has no live feed: it is read on demand
        from factorypulse_desktop.ui.pages.activity_log import ActivityLogPage

        return ActivityLogPage(ctx.runner, ctx.workspace, ctx.organization_id, ctx.formatter)
    if key == "administration":
        from factorypulse_desktop.ui.pages.administration import AdministrationPage

        admin = AdministrationPage(ctx.runner, ctx.workspace, ctx.organization_id, ctx.store)
        ctx.bus.subscribe("memberships", admin.on_memberships_changed)
        return admin
    return None
