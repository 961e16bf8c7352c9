"""Light and dark themes that follow the operating system's colour scheme."""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QGuiApplication, QPalette
from PySide6.QtWidgets import QApplication


@dataclass(frozen=True)
class Colors:
    window: str
    base: str
    alt_base: str
    text: str
    muted: str
    sidebar: str
    sidebar_selected: str
    accent: str
    border: str
    ok: str
    warn: str
    error: str


LIGHT = Colors(
    window="#f4f6f9", base="#ffffff", alt_base="#f7f9fc", text="#1d2530", muted="#5f6b7a",
    sidebar="#e9edf3", sidebar_selected="#d5e2f7", accent="#1f5fbf", border="#d3d9e2",
    ok="#1e8e4a", warn="#b7791f", error="#c0392b",
)
DARK = Colors(
    window="#1d2127", base="#252a31", alt_base="#2b3139", text="#e6e9ee", muted="#9aa5b4",
    sidebar="#171a1f", sidebar_selected="#2c3f5c", accent="#5b9bff", border="#3a414b",
    ok="#4cc17c", warn="#e0b050", error="#ef6b5e",
)


def is_dark() -> bool:
    return QGuiApplication.styleHints().colorScheme() == Qt.ColorScheme.Dark


def current() -> Colors:
    return DARK if is_dark() else LIGHT


def apply(app: QApplication) -> Colors:
    """Fusion with our palette: the same look on Windows, macOS and Linux, light or dark."""
    colors = current()
    app.setStyle("Fusion")
    palette = QPalette()
    role = QPalette.ColorRole
    palette.setColor(role.Window, QColor(colors.window))
    palette.setColor(role.WindowText, QColor(colors.text))
    palette.setColor(role.Base, QColor(colors.base))
    palette.setColor(role.AlternateBase, QColor(colors.alt_base))
    palette.setColor(role.Text, QColor(colors.text))
    palette.setColor(role.Button, QColor(colors.base))
    palette.setColor(role.ButtonText, QColor(colors.text))
    palette.setColor(role.Highlight, QColor(colors.accent))
    palette.setColor(role.HighlightedText, QColor("#ffffff"))
    palette.setColor(role.ToolTipBase, QColor(colors.base))
    palette.setColor(role.ToolTipText, QColor(colors.text))
    palette.setColor(role.PlaceholderText, QColor(colors.muted))
    palette.setColor(role.Link, QColor(colors.accent))
    app.setPalette(palette)
    app.setStyleSheet(_stylesheet(colors))
    return colors


def _stylesheet(c: Colors) -> str:
    return f"""
    QFrame#sidepanel {{ background: {c.sidebar}; border-right: 1px solid {c.border}; }}
    QLabel#brand {{ font-size: 12pt; font-weight: 700; color: {c.text}; }}
    QListWidget#sidebar {{
        background: {c.sidebar}; border: none; padding: 8px 6px; outline: 0;
        font-size: 10pt;
    }}
    QListWidget#sidebar::item {{ padding: 7px 10px; border-radius: 6px; margin: 1px 0; }}
    QListWidget#sidebar::item:selected {{ background: {c.sidebar_selected}; color: {c.text}; }}
    QListWidget#sidebar::item:hover:!selected {{ background: {c.sidebar_selected}; }}
    QFrame#topbar {{ background: {c.base}; border-bottom: 1px solid {c.border}; }}
    QLabel#pageTitle {{ font-size: 16pt; font-weight: 600; }}
    QLabel#muted {{ color: {c.muted}; }}
    QFrame#card {{ background: {c.base}; border: 1px solid {c.border}; border-radius: 10px; }}
    QFrame#banner {{ border-radius: 6px; }}
    QLineEdit, QSpinBox {{ padding: 5px 8px; border: 1px solid {c.border};
        border-radius: 6px; background: {c.base}; }}
    QLineEdit:focus {{ border: 1px solid {c.accent}; }}
    QPushButton {{ padding: 6px 14px; border: 1px solid {c.border}; border-radius: 6px;
        background: {c.base}; }}
    QPushButton:hover {{ border-color: {c.accent}; }}
    QPushButton#primary {{ background: {c.accent}; color: #ffffff; border: 1px solid {c.accent};
        font-weight: 600; }}
    QPushButton#primary:disabled {{ background: {c.border}; border-color: {c.border}; }}
    QComboBox {{ padding: 4px 8px; min-height: 22px; }}
    QStatusBar {{ background: {c.sidebar}; color: {c.muted}; }}
    QTabWidget[class="pageTabs"]::pane {{ border: none; border-top: 1px solid {c.border};
        top: -1px; }}
    QTabWidget[class="pageTabs"] > QTabBar::tab {{ background: transparent; border: none;
        border-bottom: 2px solid transparent; padding: 8px 13px; margin-right: 5px;
        color: {c.muted}; }}
    QTabWidget[class="pageTabs"] > QTabBar::tab:selected {{ color: {c.text};
        border-bottom: 2px solid {c.accent}; }}
    QTabWidget[class="pageTabs"] > QTabBar::tab:hover:!selected {{ color: {c.text}; }}
    QTableView {{ background: {c.base}; alternate-background-color: {c.alt_base};
        border: 1px solid {c.border}; border-radius: 8px; outline: 0;
        selection-background-color: {c.sidebar_selected}; selection-color: {c.text}; }}
    QTableView::item {{ padding: 0 6px; border: none; }}
    QHeaderView::section {{ background: {c.base}; color: {c.muted}; font-weight: 600;
        padding: 7px 8px; border: none; border-bottom: 1px solid {c.border}; }}
    QPlainTextEdit {{ border: 1px solid {c.border}; border-radius: 6px; background: {c.base};
        padding: 3px; }}
    QPlainTextEdit:focus {{ border: 1px solid {c.accent}; }}
    """
