"""The value sets of the product, with the exact values of the original web version."""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    ADMIN = "admin"
    MANAGEMENT = "management"
    SALES = "sales"
    ENGINEERING = "engineering"
    QA = "qa"
    PRODUCTION = "production"
    PROCUREMENT = "procurement"
    SUPPLIER = "supplier"
    CUSTOMER = "customer"

    @property
    def is_portal(self) -> bool:
        """Customers and suppliers see only what is addressed to them."""
        return self in PORTAL_ROLES


PORTAL_ROLES = frozenset({Role.SUPPLIER, Role.CUSTOMER})
INTERNAL_ROLES = frozenset(set(Role) - PORTAL_ROLES)


class IntakeType(StrEnum):
    RFQ = "rfq"
    PURCHASE_ORDER = "purchase_order"
    PROJECT_IDEA = "project_idea"
    DIRECT_REQUEST = "direct_request"


class PersonStatus(StrEnum):
    ACTIVE = "active"
    INACTIVE = "inactive"
    PENDING = "pending"
    SUSPENDED = "suspended"


class ProjectStatus(StrEnum):
    ACTIVE = "active"
    COMPLETED = "completed"
    CANCELLED = "cancelled"
    ON_HOLD = "on_hold"


class Priority(StrEnum):
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    CRITICAL = "critical"


class ContactType(StrEnum):
    CUSTOMER = "customer"
    SUPPLIER = "supplier"
    PARTNER = "partner"
    INTERNAL = "internal"


class SubscriptionPlan(StrEnum):
    STARTER = "starter"
    GROWTH = "growth"
    ENTERPRISE = "enterprise"


class ApprovalType(StrEnum):
    STAGE_TRANSITION = "stage_transition"
    DOCUMENT_APPROVAL = "document_approval"
    ENGINEERING_CHANGE = "engineering_change"
    SUPPLIER_QUALIFICATION = "supplier_qualification"
    PURCHASE_ORDER = "purchase_order"
    COST_APPROVAL = "cost_approval"
    QUALITY_REVIEW = "quality_review"
    PRODUCTION_RELEASE = "production_release"
    SHIPPING_APPROVAL = "shipping_approval"
    CONTRACT_APPROVAL = "contract_approval"
    BUDGET_APPROVAL = "budget_approval"
    SAFETY_REVIEW = "safety_review"
    CUSTOM = "custom"


class ApprovalStatus(StrEnum):
    PENDING = "pending"
    IN_REVIEW = "in_review"
    APPROVED = "approved"
    REJECTED = "rejected"
    DELEGATED = "delegated"
    EXPIRED = "expired"
    CANCELLED = "cancelled"
    AUTO_APPROVED = "auto_approved"
    ESCALATED = "escalated"


class ApprovalPriority(StrEnum):
    LOW = "low"
    NORMAL = "normal"
    HIGH = "high"
    URGENT = "urgent"
    CRITICAL = "critical"
