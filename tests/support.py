"""Helpers shared by the test folders (importable as `support`: pytest puts tests/ on the path
for tests/conftest.py)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any, TypeVar

from factorypulse_desktop.services.profiles import ConnectionProfile

T = TypeVar("T")
DEMO_PASSWORD = "factorypulse-demo"


def profile_for(db: Any) -> ConnectionProfile:
    """A server connection profile for a test database (as a person signs in to it)."""
    return ConnectionProfile(name="test", kind="server", host=str(db.cluster.socket_dir),
                             port=db.cluster.port, database=db.name, sslmode="disable")


def off_gui(fn: Callable[[], T]) -> T:
    """Run `fn` on a helper thread (the GUI thread may not touch the database) and wait."""
    result: list[tuple[str, Any]] = []

    def body() -> None:
        try:
            result.append(("ok", fn()))
        except BaseException as error:  # handed to the test thread
            result.append(("error", error))

    thread = threading.Thread(target=body)
    thread.start()
    thread.join(60)
    if not result:
        raise TimeoutError("the helper thread did not finish in 60 s")
    kind, value = result[0]
    if kind == "error":
        raise value
    return value


def one_page_pdf(text: str) -> bytes:
    """A valid one-page PDF drawing `text` in Helvetica; the xref offsets are computed."""
    content = f"BT /F1 48 Tf 72 600 Td ({text}) Tj ET".encode("ascii")
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R"
        b" /Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n" % len(content) + content + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    body = b"%PDF-1.7\n"
    offsets = []
    for number, obj in enumerate(objects, start=1):
        offsets.append(len(body))
        body += b"%d 0 obj\n" % number + obj + b"\nendobj\n"
    xref_at = len(body)
    body += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    body += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    body += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1, xref_at)
    return body
