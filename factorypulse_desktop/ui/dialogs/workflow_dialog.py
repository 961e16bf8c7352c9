"""Workflow settings: the organization's stages and sub-stages (admin and management).

A tree on the left (stages, their sub-stages below), the selected item's form on the right.
Saving sends the version it was loaded with; a conflict reloads and keeps what was typed in
the form. The database refuses anyone else, whatever this dialog shows.
"""

from __future__ import annotations

import uuid
from decimal import Decimal

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QCheckBox,
    QDialog,
    QDoubleSpinBox,
    QFormLayout,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QSpinBox,
    QSplitter,
    QStackedWidget,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from factorypulse_desktop.domain.enums import Role
from factorypulse_desktop.services import workflow_config
from factorypulse_desktop.services.workflow_config import StageConfig, SubStageConfig
from factorypulse_desktop.services.workspace import Workspace
from factorypulse_desktop.ui.models.people_model import role_label
from factorypulse_desktop.ui.tasks import TaskRunner
from factorypulse_desktop.ui.widgets.banner import Banner
from factorypulse_desktop.ui.widgets.forms import add_form_row

ITEM_ROLE = Qt.ItemDataRole.UserRole + 1
INTERNAL_ROLES = (Role.SALES, Role.PROCUREMENT, Role.ENGINEERING, Role.QA, Role.PRODUCTION,
                  Role.MANAGEMENT, Role.ADMIN)


class RolePicker(QWidget):
    """Check boxes for the internal roles."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        grid = QGridLayout(self)
        grid.setContentsMargins(0, 0, 0, 0)
        self.boxes: dict[Role, QCheckBox] = {}
        for index, role in enumerate(INTERNAL_ROLES):
            box = QCheckBox(role_label(role))
            grid.addWidget(box, index // 3, index % 3)
            self.boxes[role] = box

    def roles(self) -> tuple[Role, ...]:
        return tuple(r for r, box in self.boxes.items() if box.isChecked())

    def set_roles(self, roles: tuple[Role, ...]) -> None:
        for role, box in self.boxes.items():
            box.setChecked(role in roles)


class WorkflowDialog(QDialog):
    sig_saved = Signal()
    """Something was saved (the Projects page reloads its stages)."""
    sig_loaded = Signal()

    def __init__(self, runner: TaskRunner, workspace: Workspace, organization_id: uuid.UUID,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._runner = runner
        self._workspace = workspace
        self._organization_id = organization_id
        self._config: list[StageConfig] = []
        self.setWindowTitle(self.tr("Workflow settings"))
        self.resize(980, 640)
        self._build()
        self.reload()

    # --- construction ---------------------------------------------------------------------
    def _build(self) -> None:
        outer = QVBoxLayout(self)
        outer.setContentsMargins(20, 16, 20, 16)
        intro = QLabel(self.tr(
            "The stages every project goes through, in order, and the steps of each. A stage "
            "projects have been in cannot be deleted: switch it off instead."))
        intro.setWordWrap(True)
        intro.setObjectName("muted")
        outer.addWidget(intro)
        self.banner = Banner()
        outer.addWidget(self.banner)
        split = QSplitter()
        left = QWidget()
        left_box = QVBoxLayout(left)
        left_box.setContentsMargins(0, 0, 0, 0)
        self.tree = QTreeWidget()
        self.tree.setHeaderLabels([self.tr("Stage / step"), self.tr("Roles")])
        self.tree.setColumnWidth(0, 260)
        self.tree.currentItemChanged.connect(self._selected)
        left_box.addWidget(self.tree, 1)
        buttons = QHBoxLayout()
        self.add_stage_button = QPushButton(self.tr("Add stage"))
        self.add_step_button = QPushButton(self.tr("Add step"))
        self.up_button = QPushButton(self.tr("Move up"))
        self.down_button = QPushButton(self.tr("Move down"))
        for button in (self.add_stage_button, self.add_step_button, self.up_button,
                       self.down_button):
            buttons.addWidget(button)
        self.add_stage_button.clicked.connect(self._add_stage)
        self.add_step_button.clicked.connect(self._add_step)
        self.up_button.clicked.connect(lambda: self._move(-1))
        self.down_button.clicked.connect(lambda: self._move(1))
        left_box.addLayout(buttons)
        split.addWidget(left)

        self.forms = QStackedWidget()
        self.forms.addWidget(QLabel(self.tr("Choose a stage or a step.")))
        self.forms.addWidget(self._stage_form())
        self.forms.addWidget(self._step_form())
        split.addWidget(self.forms)
        split.setSizes([420, 540])
        outer.addWidget(split, 1)
        bottom = QHBoxLayout()
        bottom.addStretch(1)
        self.save_button = QPushButton(self.tr("Save"))
        self.save_button.setDefault(True)
        self.save_button.clicked.connect(self.save)
        close = QPushButton(self.tr("Close"))
        close.clicked.connect(self.accept)
        bottom.addWidget(self.save_button)
        bottom.addWidget(close)
        outer.addLayout(bottom)

    def _stage_form(self) -> QWidget:
        box = QWidget()
        form = QFormLayout(box)
        self.stage_name = QLineEdit()
        self.stage_name.setMaxLength(80)
        self.stage_color = QLineEdit()
        self.stage_color.setPlaceholderText("#1f5fbf")
        self.stage_days = QSpinBox()
        self.stage_days.setRange(0, 3650)
        self.stage_days.setSuffix(self.tr(" days"))
        self.stage_roles = RolePicker()
        self.stage_exit = QPlainTextEdit()
        self.stage_exit.setFixedHeight(70)
        self.stage_active = QCheckBox(self.tr("In use (switched-off stages leave the board)"))
        add_form_row(form, self.tr("Name"), self.stage_name)
        add_form_row(form, self.tr("Colour"), self.stage_color)
        add_form_row(form, self.tr("Expected duration"), self.stage_days)
        add_form_row(form, self.tr("Responsible roles"), self.stage_roles)
        add_form_row(form, self.tr("Exit criteria"), self.stage_exit)
        form.addRow("", self.stage_active)
        return box

    def _step_form(self) -> QWidget:
        box = QWidget()
        form = QFormLayout(box)
        self.step_name = QLineEdit()
        self.step_name.setMaxLength(120)
        self.step_hours = QDoubleSpinBox()
        self.step_hours.setRange(0, 10000)
        self.step_hours.setDecimals(1)
        self.step_hours.setSuffix(self.tr(" h"))
        self.step_roles = RolePicker()
        self.step_required = QCheckBox(self.tr("Required before the project may advance"))
        self.step_skip = QCheckBox(self.tr("May be skipped"))
        self.step_approval = QCheckBox(self.tr("Needs approval"))
        self.step_approvers = RolePicker()
        self.step_active = QCheckBox(self.tr("In use"))
        add_form_row(form, self.tr("Name"), self.step_name)
        add_form_row(form, self.tr("Estimated effort"), self.step_hours)
        add_form_row(form, self.tr("Responsible roles"), self.step_roles)
        form.addRow("", self.step_required)
        form.addRow("", self.step_skip)
        form.addRow("", self.step_approval)
        add_form_row(form, self.tr("Approved by"), self.step_approvers)
        form.addRow("", self.step_active)
        return box

    # --- loading --------------------------------------------------------------------------
    def reload(self, select: uuid.UUID | None = None) -> None:
        ws, org = self._workspace, self._organization_id
        self._runner.run(lambda: workflow_config.load_config(ws, org),
                         on_done=lambda config: self._loaded(config, select),
                         on_error=self._failed, key=f"workflow-config-{id(self)}")

    def _loaded(self, config: list[StageConfig], select: uuid.UUID | None) -> None:
        current = self.selected()
        wanted = select or (current.id if current is not None else None)
        self._config = config
        self.tree.blockSignals(True)
        self.tree.clear()
        chosen: QTreeWidgetItem | None = None
        for stage in config:
            item = QTreeWidgetItem([f"{stage.order}. {stage.name}",
                                    ", ".join(role_label(r) for r in stage.responsible_roles)])
            item.setData(0, ITEM_ROLE, stage)
            item.setForeground(0, QColor(stage.color))
            if not stage.is_active:
                item.setText(0, item.text(0) + self.tr("  (off)"))
            self.tree.addTopLevelItem(item)
            chosen = item if stage.id == wanted else chosen
            for sub in stage.sub_stages:
                child = QTreeWidgetItem([
                    sub.name + ("" if sub.is_required else self.tr("  (optional)")),
                    ", ".join(role_label(r) for r in sub.responsible_roles)])
                child.setData(0, ITEM_ROLE, sub)
                item.addChild(child)
                chosen = child if sub.id == wanted else chosen
            item.setExpanded(True)
        self.tree.blockSignals(False)
        if chosen is not None:
            self.tree.setCurrentItem(chosen)
        self._selected(self.tree.currentItem(), None)
        self.sig_loaded.emit()

    def selected(self) -> StageConfig | SubStageConfig | None:
        item = self.tree.currentItem()
        value = item.data(0, ITEM_ROLE) if item is not None else None
        return value if isinstance(value, StageConfig | SubStageConfig) else None

    def _selected(self, item: QTreeWidgetItem | None, _previous: object) -> None:
        value = item.data(0, ITEM_ROLE) if item is not None else None
        if isinstance(value, StageConfig):
            self.forms.setCurrentIndex(1)
            self.stage_name.setText(value.name)
            self.stage_color.setText(value.color)
            self.stage_days.setValue(value.estimated_days or 0)
            self.stage_roles.set_roles(value.responsible_roles)
            self.stage_exit.setPlainText(value.exit_criteria or "")
            self.stage_active.setChecked(value.is_active)
        elif isinstance(value, SubStageConfig):
            self.forms.setCurrentIndex(2)
            self.step_name.setText(value.name)
            self.step_hours.setValue(float(value.estimated_hours or 0))
            self.step_roles.set_roles(value.responsible_roles)
            self.step_required.setChecked(value.is_required)
            self.step_skip.setChecked(value.can_skip)
            self.step_approval.setChecked(value.requires_approval)
            self.step_approvers.set_roles(value.approval_roles)
            self.step_active.setChecked(value.is_active)
        else:
            self.forms.setCurrentIndex(0)
        self.add_step_button.setEnabled(value is not None)

    # --- editing --------------------------------------------------------------------------
    def typed_stage(self, base: StageConfig) -> StageConfig:
        return StageConfig(
            base.id, self.stage_name.text(), base.order, base.slug, self.stage_color.text(),
            base.description, self.stage_exit.toPlainText().strip() or None,
            self.stage_roles.roles(), self.stage_days.value() or None,
            self.stage_active.isChecked(), base.version)

    def typed_step(self, base: SubStageConfig) -> SubStageConfig:
        return SubStageConfig(
            base.id, self.step_name.text(), base.order, base.description,
            self.step_roles.roles(), Decimal(str(self.step_hours.value())) or None,
            self.step_required.isChecked(), self.step_skip.isChecked(),
            self.step_approval.isChecked(), self.step_approvers.roles(),
            self.step_active.isChecked(), base.version)

    def save(self) -> None:
        value = self.selected()
        ws, org = self._workspace, self._organization_id
        if isinstance(value, StageConfig):
            stage = self.typed_stage(value)
            self._runner.run(lambda: workflow_config.save_stage(ws, org, stage),
                             on_done=self._saved, on_error=self._failed)
        elif isinstance(value, SubStageConfig):
            step = self.typed_step(value)
            stage_id = self._stage_of(value)
            if stage_id is None:
                return
            self._runner.run(lambda: workflow_config.save_sub_stage(ws, org, stage_id, step),
                             on_done=self._saved, on_error=self._failed)

    def _add_stage(self) -> None:
        ws, org = self._workspace, self._organization_id
        stage = StageConfig(None, self.tr("New stage"))
        self._runner.run(lambda: workflow_config.save_stage(ws, org, stage),
                         on_done=self._saved, on_error=self._failed)

    def _add_step(self) -> None:
        value = self.selected()
        stage_id = value.id if isinstance(value, StageConfig) else (
            self._stage_of(value) if isinstance(value, SubStageConfig) else None)
        if stage_id is None:
            return
        ws, org = self._workspace, self._organization_id
        step = SubStageConfig(None, self.tr("New step"))
        self._runner.run(lambda: workflow_config.save_sub_stage(ws, org, stage_id, step),
                         on_done=self._saved, on_error=self._failed)

    def _move(self, offset: int) -> None:
        value = self.selected()
        ws, org = self._workspace, self._organization_id
        if isinstance(value, StageConfig):
            ids = [s.id for s in self._config if s.id is not None]
            order = _shifted(ids, value.id, offset)
            if order is not None:
                stages: list[uuid.UUID] = order
                self._runner.run(lambda: workflow_config.reorder_stages(ws, org, stages),
                                 on_done=lambda _r: self._saved(value.id), on_error=self._failed)
        elif isinstance(value, SubStageConfig):
            stage_id = self._stage_of(value)
            stage = next((s for s in self._config if s.id == stage_id), None)
            if stage is None or stage_id is None:
                return
            sub_ids = [s.id for s in stage.sub_stages if s.id is not None]
            moved = _shifted(sub_ids, value.id, offset)
            if moved is not None:
                self._runner.run(
                    lambda: workflow_config.reorder_sub_stages(ws, org, stage_id, moved),
                    on_done=lambda _r: self._saved(value.id), on_error=self._failed)

    def _stage_of(self, sub: SubStageConfig) -> uuid.UUID | None:
        return next((s.id for s in self._config if any(x.id == sub.id for x in s.sub_stages)),
                    None)

    def _saved(self, item_id: object) -> None:
        self.banner.show_message(self.tr("Saved."), kind="ok", timeout_ms=3000)
        self.sig_saved.emit()
        self.reload(item_id if isinstance(item_id, uuid.UUID) else None)

    def _failed(self, error: BaseException) -> None:
        # The form keeps what was typed; a conflict also refreshes the tree beside it.
        self.banner.show_message(str(error), kind="error")
        if isinstance(error, workflow_config.ConfigConflictError):
            ws, org = self._workspace, self._organization_id
            self._runner.run(lambda: workflow_config.load_config(ws, org),
                             on_done=self._refresh_versions)

    def _refresh_versions(self, config: list[StageConfig]) -> None:
        """New versions under the typed form: saving again overwrites knowingly."""
        self._config = config
        by_id: dict[uuid.UUID | None, StageConfig | SubStageConfig] = {}
        for stage in config:
            by_id[stage.id] = stage
            for sub in stage.sub_stages:
                by_id[sub.id] = sub
        item = self.tree.currentItem()
        current = self.selected()
        if item is not None and current is not None and current.id in by_id:
            item.setData(0, ITEM_ROLE, by_id[current.id])


def _shifted(ids: list[uuid.UUID], item: uuid.UUID | None, offset: int) -> list[uuid.UUID] | None:
    if item not in ids:
        return None
    index = ids.index(item)
    target = index + offset
    if not 0 <= target < len(ids):
        return None
    ids = list(ids)
    ids[index], ids[target] = ids[target], ids[index]
    return ids
