"""The Ctrl+K palette's data side: find any record of one organization while the person types.

Two steps in one statement, on the signed-in person's own connection:

1. ``fp_private.search_candidates`` (migration 20261125_0002) finds candidate ids with the
   tenant-led trigram indexes. It is a ``SECURITY DEFINER`` function because ``ILIKE`` is not
   LEAKPROOF: under row level security the planner could not use an index for it and would
   filter every row of the organization (benchmarks/README.md, "What we found" 4). It returns
   only ``(kind, id, rank)``, for records of an organization the person belongs to that the
   person may read.
2. The display rows are read here through the normal tables, so the policies still decide what
   the person sees; a candidate they may not read simply drops out.

Hits come back grouped by kind (in the order of ``KINDS``), best first within a kind.
"""

from __future__ import annotations

import re
import uuid

import sqlalchemy
from sqlalchemy import exc, text

from factorypulse_desktop.domain.errors import UserFacingError
from factorypulse_desktop.domain.search import SearchHit
from factorypulse_desktop.services.auth import Workspace

__all__ = ["KINDS", "SearchHit", "normalize_query", "search", "search_workspace"]

KINDS = (
    "project", "contact", "document", "purchase_order", "inventory_item", "production_order",
    "person",
)
MIN_QUERY_CHARS = 2
MAX_QUERY_CHARS = 200  # the database function uses at most as many
MAX_PER_KIND = 50
_MAX_INPUT_CHARS = 100_000  # looked at when cleaning (a paste of a whole file stays cheap)

# NUL cannot travel in a PostgreSQL text value; other control characters are no use in a search.
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


# The candidates, then each kind's display row through its RLS-protected table. WITH
# ORDINALITY keeps the function's order (kind by kind, best rank first).
_SEARCH_SQL = text("""
WITH c AS MATERIALIZED (
    SELECT s.kind, s.id, s.ord
    FROM fp_private.search_candidates(:q, :org, :n) WITH ORDINALITY AS s (kind, id, rank, ord)
)
SELECT c.ord, c.kind, p.id, p.title,
       concat_ws(' · ', p.project_number, k.company_name, p.status::text) AS subtitle,
       p.organization_id
FROM c
JOIN projects p ON p.organization_id = :org AND p.id = c.id
LEFT JOIN contacts k ON k.organization_id = p.organization_id AND k.id = p.customer_id
WHERE c.kind = 'project'
UNION ALL
SELECT c.ord, c.kind, x.id, x.company_name,
       concat_ws(' · ', x.type::text, x.contact_name, x.city), x.organization_id
FROM c
JOIN contacts x ON x.organization_id = :org AND x.id = c.id
WHERE c.kind = 'contact'
UNION ALL
SELECT c.ord, c.kind, d.id, d.title,
       concat_ws(' · ', d.category, pr.project_number, d.file_name), d.organization_id
FROM c
JOIN documents d ON d.organization_id = :org AND d.id = c.id
LEFT JOIN projects pr ON pr.organization_id = d.organization_id AND pr.id = d.project_id
WHERE c.kind = 'document'
UNION ALL
SELECT c.ord, c.kind, o.id, o.po_number,
       concat_ws(' · ', k.company_name, o.status), o.organization_id
FROM c
JOIN purchase_orders o ON o.organization_id = :org AND o.id = c.id
LEFT JOIN contacts k ON k.organization_id = o.organization_id AND k.id = o.supplier_id
WHERE c.kind = 'purchase_order'
UNION ALL
SELECT c.ord, c.kind, i.id, i.item_name,
       concat_ws(' · ', i.item_code, i.category), i.organization_id
FROM c
JOIN inventory_items i ON i.organization_id = :org AND i.id = c.id
WHERE c.kind = 'inventory_item'
UNION ALL
SELECT c.ord, c.kind, m.id, m.production_number,
       concat_ws(' · ', m.description, pr.project_number, m.status), m.organization_id
FROM c
JOIN production_orders m ON m.organization_id = :org AND m.id = c.id
LEFT JOIN projects pr ON pr.organization_id = m.organization_id AND pr.id = m.project_id
WHERE c.kind = 'production_order'
UNION ALL
SELECT c.ord, c.kind, pe.id, pe.display_name,
       concat_ws(' · ', pe.role_name, pe.email), CAST(:org AS uuid)
FROM c
JOIN persons pe ON pe.id = c.id
WHERE c.kind = 'person'
ORDER BY 1
""")


def normalize_query(raw: str) -> str:
    """What is searched for: control characters and runs of spaces become one space, text that
    cannot be encoded (lone surrogates) is dropped, and at most ``MAX_QUERY_CHARS`` are kept."""
    cleaned = raw[:_MAX_INPUT_CHARS].encode("utf-8", "ignore").decode("utf-8")
    cleaned = " ".join(_CONTROL.sub(" ", cleaned).split())
    return cleaned[:MAX_QUERY_CHARS].strip()


def search(
    conn: sqlalchemy.Connection, organization_id: uuid.UUID, text: str, *, per_kind: int = 5
) -> list[SearchHit]:
    """Records of `organization_id` matching `text` that the signed-in person may see.

    At most `per_kind` hits per kind (1 to 50), grouped by kind in ``KINDS`` order, best first.
    Text shorter than 2 characters finds nothing; LIKE wildcards (``%``, ``_``) are literal.
    `conn` is a connection of the signed-in person (their own login).
    """
    query = normalize_query(text)
    if len(query) < MIN_QUERY_CHARS:
        return []
    limit = max(1, min(per_kind, MAX_PER_KIND))
    try:
        rows = conn.execute(_SEARCH_SQL, {"q": query, "org": organization_id, "n": limit}).all()
    except exc.DataError as error:  # e.g. a character the database's encoding cannot hold
        raise UserFacingError("The search text contains characters that cannot be searched.") \
            from error
    by_kind: dict[str, list[SearchHit]] = {kind: [] for kind in KINDS}
    for row in rows:
        by_kind[row.kind].append(
            SearchHit(row.kind, row.id, row.title or "", row.subtitle or "", row.organization_id)
        )
    return [hit for kind in KINDS for hit in by_kind[kind]]


def search_workspace(
    workspace: Workspace, organization_id: uuid.UUID, text: str, *, per_kind: int = 5
) -> list[SearchHit]:
    """`search` as the signed-in person (for the palette); retried if the connection drops."""
    if len(normalize_query(text)) < MIN_QUERY_CHARS:
        return []
    return workspace.read(lambda conn: search(conn, organization_id, text, per_kind=per_kind))
