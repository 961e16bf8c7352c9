"""The intake form: what a new project starts with, and where each intake type sends it.

Routing follows the original (ORIGIN.md §3, "How intake type routes a new project") with its
gaps closed: the priority the person chose is kept (the original forced one per type; ours is
only the form's default), and a direct request starts at Inquiry Received.
"""

from __future__ import annotations

import datetime as dt
import re
import uuid
from dataclasses import dataclass, field
from decimal import Decimal

from factorypulse_desktop.domain.enums import IntakeType, Priority
from factorypulse_desktop.domain.numbers import NumberProblem, parse_decimal
from factorypulse_desktop.domain.text import FieldError, clean_text


@dataclass(frozen=True)
class IntakeRoute:
    label: str
    project_type: str | None
    stage_slug: str
    default_priority: Priority


ROUTES: dict[IntakeType, IntakeRoute] = {
    IntakeType.RFQ: IntakeRoute("RFQ / quote request", "fabrication", "inquiry_received",
                                Priority.MEDIUM),
    IntakeType.PURCHASE_ORDER: IntakeRoute("Purchase order", "manufacturing", "order_confirmed",
                                           Priority.HIGH),
    IntakeType.PROJECT_IDEA: IntakeRoute("Project idea", "system_build", "technical_review",
                                         Priority.LOW),
    IntakeType.DIRECT_REQUEST: IntakeRoute("Direct request", None, "inquiry_received",
                                           Priority.MEDIUM),
}

MAX_TAGS = 20
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_PHONE = re.compile(r"^[0-9+()./ -]{5,40}$")
_MAX_VALUE = Decimal("9999999999999.99")  # numeric(15, 2)


@dataclass(frozen=True)
class IntakeForm:
    """What the person typed, as typed (strings); `validate` turns it into an `Intake`."""

    intake_type: IntakeType
    company: str = ""
    contact_name: str = ""
    email: str = ""
    phone: str = ""
    title: str = ""
    description: str = ""
    priority: Priority | None = None
    estimated_value: str = ""
    target_date: dt.date | None = None
    notes: str = ""
    tags: str = ""
    customer_id: uuid.UUID | None = None
    """An existing contact the person chose; None creates a new customer."""
    submission_id: uuid.UUID | None = None
    """Chosen once per form by the client and sent again on a retry: it becomes the project's
    id, so a retry after a lost answer finds the project instead of creating a second one."""


@dataclass(frozen=True)
class Intake:
    """A valid intake, ready to store."""

    intake_type: IntakeType
    company: str
    contact_name: str | None
    email: str | None
    phone: str | None
    title: str
    description: str | None
    priority: Priority
    estimated_value: Decimal | None
    target_date: dt.date | None
    notes: str | None
    tags: tuple[str, ...]
    customer_id: uuid.UUID | None
    route: IntakeRoute = field(compare=False)
    submission_id: uuid.UUID = field(default_factory=uuid.uuid4)


class IntakeInvalid(ValueError):
    """Field name → message, for every field that is wrong (nothing is stored)."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__("; ".join(errors.values()))
        self.errors = errors


def parse_money(text: str) -> Decimal | None:
    """"12500", "12,500", "12,500.50", "12 500,50", "$ 99.90" → Decimal (`domain.numbers`, at
    most two decimals: "12,500" is twelve thousand five hundred); raises `NumberProblem` (a
    ValueError) for anything else."""
    return parse_decimal(text.strip().lstrip("$€£¥₫"), decimals=2)


def parse_tags(text: str) -> tuple[str, ...]:
    """Comma- or semicolon-separated tags, trimmed, without duplicates (first spelling kept)."""
    seen: dict[str, str] = {}
    for part in re.split(r"[,;]", text):
        tag = " ".join(part.split())
        if tag and tag.casefold() not in seen:
            seen[tag.casefold()] = tag
    return tuple(seen.values())


def validate(form: IntakeForm) -> Intake:
    """The stored form of `form`, or `IntakeInvalid` naming every wrong field."""
    errors: dict[str, str] = {}

    def text(name: str, label: str, max_length: int, **kwargs: object) -> str | None:
        try:
            return clean_text(getattr(form, name), field=name, label=label,
                              max_length=max_length, **kwargs)  # type: ignore[arg-type]
        except FieldError as error:
            errors[error.field] = error.message
            return None

    company = text("company", "Company name", 200, required=True)
    contact_name = text("contact_name", "Contact name", 200, required=form.customer_id is None)
    email = text("email", "E-mail", 254)
    if email and not _EMAIL.match(email):
        errors["email"] = "E-mail does not look like an address (name@example.com)."
    phone = text("phone", "Phone", 40)
    if phone and not _PHONE.match(phone):
        errors["phone"] = "Phone may hold digits, spaces and + ( ) - . / only."
    title = text("title", "Project title", 200, required=True, min_length=3)
    description = text("description", "Description", 20_000)
    notes = text("notes", "Notes", 20_000)
    value: Decimal | None = None
    try:
        value = parse_money(form.estimated_value)
        if value is not None and value < 0:
            errors["estimated_value"] = "Estimated value must be zero or more."
        elif value is not None and value > _MAX_VALUE:
            errors["estimated_value"] = "Estimated value is too large."
    except NumberProblem as problem:
        errors["estimated_value"] = f"Estimated value: {problem}"
    tags = parse_tags(form.tags)
    if len(tags) > MAX_TAGS:
        errors["tags"] = f"At most {MAX_TAGS} tags."
    try:  # as the project form checks them: NUL and broken characters in words, NFC
        tags = tuple(dict.fromkeys(
            t for t in (clean_text(tag, field="tags", label="A tag", max_length=50)
                        for tag in tags) if t))
    except FieldError as error:
        errors["tags"] = error.message
    if form.target_date is not None and form.target_date < dt.date(2000, 1, 1):
        errors["target_date"] = "Target date is too far in the past."
    if errors:
        raise IntakeInvalid(errors)
    route = ROUTES[form.intake_type]
    assert company is not None and title is not None
    return Intake(
        intake_type=form.intake_type, company=company, contact_name=contact_name, email=email,
        phone=phone, title=title, description=description,
        priority=form.priority or route.default_priority, estimated_value=value,
        target_date=form.target_date, notes=notes, tags=tags, customer_id=form.customer_id,
        route=route, submission_id=form.submission_id or uuid.uuid4())
