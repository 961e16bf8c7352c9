"""Search: the Ctrl+K palette's candidate function and tenant-led trigram indexes.

Why a SECURITY DEFINER function: ``ILIKE`` (``texticlike``) is not LEAKPROOF, so under row
level security the planner must evaluate it after the policies and cannot use a trigram
index (benchmarks/README.md, "What we found" 4: 40-137 ms at 100k projects). Inside a function
owned by ``fp_security`` (BYPASSRLS) no policy applies, so the same predicate uses the GIN
indexes below, restricted explicitly to one organization of the caller.

What it returns, and why that is safe: only ``(kind, id, rank)`` of records the caller could
read with a plain ``SELECT`` anyway. The organization must be one of the caller's
(``fp_private.my_org_ids()``, identity from ``session_user``), and every kind's candidates are
filtered by the same rule as that table's SELECT policy (internal staff, portal contacts and
projects, confidential documents, sent purchase orders), so calling the function directly
reveals nothing a person could not already list (tests/db/test_search.py compares the two for
every demo person). The rank is computed from the same readable columns. The app then loads the display rows through
the RLS-protected tables (``services/search.py``), so the policies stay the authority: were this
copy of a rule ever wider than the policy, the extra candidate would simply not be shown.

Matching: at least 2 characters (after trimming; at most 200 are used); LIKE wildcards in the
user's text are escaped, so ``%`` and ``_`` match themselves. With a run of 3 or more letters or
digits the text is a case-insensitive substring (``ILIKE '%text%'``, trigram-indexed); shorter
text matches only the start of a word (``'text%'`` or ``'% text%'``), which still gives the index
trigrams to work with. Ranking: exact identifier 1.0, identifier prefix 0.9, exact name 0.85,
name prefix 0.8, word prefix 0.7, second name (a contact's person) 0.6, anywhere else 0.5; ties
go to the most recently updated. Per kind at most CANDIDATE_CAP candidates are ranked.

Persons are the one kind not filtered by a copy of its policy: they are matched among the
members of the organization, which only internal staff may list (memberships policy); a portal
person finds only themselves.

Revision ID: 20261125_0002
Revises: 20261125_0001
Create Date: 2026-11-25
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "20261125_0002"
down_revision: str | None = "20261125_0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Tenant-led GIN indexes: a search in a small organization reads only its own posting lists.
# The leading key is organization_id AS TEXT (btree_gin's text operator class), and the function
# filters on ``organization_id::text``, which no btree index can serve: the planner must then
# take a trigram bitmap (this index, or the single-column trigram index of 20261125_0001 plus a
# filter, cheaper for the biggest organization) and can never read a whole organization
# through a btree organization_id index and filter it with ILIKE, which it otherwise
# underprices (an ILIKE per row is costed like an integer comparison).
ORG_KEY = "((organization_id)::text)"
INDEXES: dict[str, tuple[str, str]] = {
    "projects_search_trgm_idx": (
        "projects", f"{ORG_KEY}, project_number gin_trgm_ops, title gin_trgm_ops"),
    "contacts_search_trgm_idx": (
        "contacts", f"{ORG_KEY}, company_name gin_trgm_ops, contact_name gin_trgm_ops"),
    "documents_search_trgm_idx": ("documents", f"{ORG_KEY}, title gin_trgm_ops"),
    "purchase_orders_search_trgm_idx": ("purchase_orders", f"{ORG_KEY}, po_number gin_trgm_ops"),
    "inventory_items_search_trgm_idx": (
        "inventory_items", f"{ORG_KEY}, item_code gin_trgm_ops, item_name gin_trgm_ops"),
    "production_orders_search_trgm_idx": (
        "production_orders",
        f"{ORG_KEY}, production_number gin_trgm_ops, description gin_trgm_ops"),
}

SIGNATURE = "fp_private.search_candidates(text, uuid, integer, text[])"

# Candidates read per kind before ranking. The rank needs every candidate's row, so a word found
# in thousands of rows would cost milliseconds per thousand rows: past this many, the best of
# the first CANDIDATE_CAP found are returned (typing more narrows the search). The cap is
# applied outside a MATERIALIZED CTE, which is planned for reading all its rows but read only
# as far as needed: a LIMIT in the same query would make the planner prefer reading the
# organization's rows in any order and filtering them, hoping to stop early (it often cannot).
CANDIDATE_CAP = 1000


class Kind:
    """How one kind is matched and ranked, and who may read it.

    ``visible`` repeats the table's permissive SELECT policy (20261125_0001 POLICIES) with the
    caller's facts computed once at the top of the function: keep the two in step. ``only_if``
    skips the whole query when the caller can read no row of the kind.
    """

    def __init__(self, kind: str, table: str, alias: str, *, visible: str = "true",
                 code: str | None = None, names: tuple[str, ...] = (),
                 only_if: str = "true") -> None:
        self.kind, self.table, self.alias = kind, table, alias
        self.visible, self.code, self.names, self.only_if = visible, code, names, only_if

    def _col(self, column: str) -> str:
        return f"{self.alias}.{column}"

    def rank(self) -> str:
        whens = []
        if self.code:
            code = self._col(self.code)
            whens += [f"WHEN lower({code}) = lower(q) THEN 1.0",
                      f"WHEN {code} ILIKE v_prefix THEN 0.9"]
        for i, name in enumerate(self.names):
            col = self._col(name)
            if i == 0:
                whens += [f"WHEN lower({col}) = lower(q) THEN 0.85",
                          f"WHEN {col} ILIKE v_prefix THEN 0.8",
                          f"WHEN {col} ILIKE v_word THEN 0.7"]
            else:
                whens.append(f"WHEN {col} ILIKE v_prefix OR {col} ILIKE v_word THEN 0.6")
        return "CASE " + " ".join(whens) + " ELSE 0.5 END"

    def match(self) -> str:
        short, long = [], []
        if self.code:
            short.append(f"{self._col(self.code)} ILIKE v_prefix")
            long.append(f"{self._col(self.code)} ILIKE v_like")
        for name in self.names:
            col = self._col(name)
            short += [f"{col} ILIKE v_prefix", f"{col} ILIKE v_word"]
            long.append(f"{col} ILIKE v_like")
        return (f"CASE WHEN v_short THEN {' OR '.join(short)}\n"
                f"                   ELSE {' OR '.join(long)} END")

    def sql(self) -> str:
        a = self.alias
        return f"""
    IF {self.only_if} AND (p_kinds IS NULL OR '{self.kind}' = ANY (p_kinds)) THEN
        RETURN QUERY
        WITH found AS MATERIALIZED (
            SELECT {a}.id, {a}.updated_at, ({self.rank()})::real AS r
            FROM public.{self.table} {a}
            WHERE {a}.organization_id::text = v_org
              AND ({self.visible})
              AND {self.match()}
        )
        SELECT '{self.kind}'::text, x.id, x.r FROM (SELECT * FROM found LIMIT v_cap) x
        ORDER BY x.r DESC, x.updated_at DESC, x.id
        LIMIT n;
    END IF;"""


KINDS = (
    Kind("project", "projects", "p", visible="v_internal OR p.id = ANY (v_projects)",
         code="project_number", names=("title",)),
    Kind("contact", "contacts", "c", visible="v_internal OR c.id = ANY (v_contacts)",
         names=("company_name", "contact_name")),
    Kind("document", "documents", "d",
         visible="(v_internal AND (d.access_level IN ('public', 'internal') OR v_manager "
                 "OR d.uploaded_by = v_me OR d.project_id = ANY (v_assigned))) "
                 "OR (d.access_level = 'public' AND (d.project_id = ANY (v_projects) "
                 "OR d.supplier_rfq_id = ANY (v_rfqs)))",
         names=("title",)),
    Kind("purchase_order", "purchase_orders", "o",
         visible="v_internal OR (o.supplier_id = ANY (v_contacts) AND o.status NOT IN "
                 "('draft', 'pending_approval', 'approved', 'cancelled'))",
         code="po_number"),
    Kind("inventory_item", "inventory_items", "i", only_if="v_internal",
         code="item_code", names=("item_name",)),
    Kind("production_order", "production_orders", "m", only_if="v_internal",
         code="production_number", names=("description",)),
)

# Members of the organization. Only internal staff may read memberships; a portal person sees
# the person rows of their organizations' members but not who belongs where, so they find only
# themselves here. Persons are few (one per login): no index.
PERSONS_SQL = """
    IF p_kinds IS NULL OR 'person' = ANY (p_kinds) THEN
        RETURN QUERY
        SELECT 'person'::text, pe.id, (CASE
                WHEN lower(pe.display_name) = lower(q) OR lower(pe.role_name) = lower(q)
                    THEN 1.0
                WHEN pe.display_name ILIKE v_prefix OR pe.role_name ILIKE v_prefix THEN 0.8
                WHEN pe.display_name ILIKE v_word THEN 0.7
                ELSE 0.5 END)::real AS r
        FROM public.persons pe
        JOIN public.memberships ms ON ms.person_id = pe.id AND ms.organization_id = p_org
        WHERE (v_internal OR pe.id = v_me)
          AND CASE WHEN v_short
                   THEN pe.display_name ILIKE v_prefix OR pe.display_name ILIKE v_word
                        OR pe.role_name ILIKE v_prefix
                   ELSE pe.display_name ILIKE v_like OR pe.role_name ILIKE v_like END
        ORDER BY r DESC, pe.display_name, pe.id
        LIMIT n;
    END IF;"""

SEARCH_FUNCTION = r"""
CREATE FUNCTION fp_private.search_candidates(
    p_query text, p_org uuid, p_limit integer DEFAULT 5, p_kinds text[] DEFAULT NULL
) RETURNS TABLE (kind text, id uuid, rank real)
LANGUAGE plpgsql STABLE SECURITY DEFINER
-- At most 7 kinds x p_limit rows, usually a few dozen: with the default guess (1000) a caller
-- joining the ids to a table would rather read the whole organization than look them up.
ROWS 30
SET search_path = pg_catalog, public
-- Every call is planned with its own values: a generic plan cannot see the pattern and may
-- prefer a scan of the whole organization over the trigram index.
SET plan_cache_mode = force_custom_plan
-- Never read a whole table (every organization) and filter it, whatever the planner guesses
-- about a pattern: candidates come from an index (see INDEXES).
SET enable_seqscan = off
AS $$
#variable_conflict use_column
DECLARE
    q text := btrim(regexp_replace(left(coalesce(p_query, ''), 200), '\s+', ' ', 'g'));
    n integer := least(greatest(coalesce(p_limit, 5), 1), 50);
    v_cap integer := @CAP@;
    v_org text := p_org::text;  -- matches the indexes' leading key (see INDEXES)
    esc text;
    v_like text;     -- anywhere
    v_prefix text;   -- at the start
    v_word text;     -- at the start of a later word
    v_short boolean; -- no run of 3 letters or digits: match the start of words only
    v_internal boolean;
    v_manager boolean;
    v_me uuid;
    v_contacts uuid[] := '{}';
    v_projects uuid[] := '{}';
    v_rfqs uuid[] := '{}';
    v_assigned uuid[] := '{}';
BEGIN
    -- Without a letter or digit a pattern gives the trigram index nothing to look up.
    IF char_length(q) < 2 OR q !~ '[[:alnum:]]' OR p_org IS NULL
       OR NOT p_org = ANY (fp_private.my_org_ids()) THEN
        RETURN;
    END IF;
    esc := replace(replace(replace(q, '\', '\\'), '%', '\%'), '_', '\_');
    v_like := '%' || esc || '%';
    v_prefix := esc || '%';
    v_word := '% ' || esc || '%';
    v_short := q !~ '[[:alnum:]]{3}';
    v_internal := p_org = ANY (fp_private.my_internal_org_ids());
    v_manager := p_org = ANY (fp_private.my_org_ids_with_role(
        '{admin,management}'::public.user_role[]));
    v_me := fp_private.my_person_id();
    -- Arrays, not calls in the queries: a STABLE function in a WHERE runs once per row.
    IF NOT v_internal THEN
        v_contacts := fp_private.my_portal_contact_ids();
        v_projects := fp_private.my_portal_project_ids();
        v_rfqs := fp_private.my_supplier_rfq_ids();
    ELSIF NOT v_manager THEN
        v_assigned := fp_private.my_assigned_project_ids();
    END IF;
@KINDS@
@PERSONS@
END
$$;
""".replace("@CAP@", str(CANDIDATE_CAP)).replace(
    "@KINDS@", "\n".join(k.sql() for k in KINDS)).replace("@PERSONS@", PERSONS_SQL)


def upgrade() -> None:
    for name, (table, columns) in INDEXES.items():
        op.execute(f"CREATE INDEX {name} ON {table} USING gin ({columns})")
    op.execute(SEARCH_FUNCTION)
    op.execute(f"ALTER FUNCTION {SIGNATURE} OWNER TO fp_security")
    op.execute(f"REVOKE EXECUTE ON FUNCTION {SIGNATURE} FROM PUBLIC")
    op.execute(f"GRANT EXECUTE ON FUNCTION {SIGNATURE} TO fp_member")


def downgrade() -> None:
    op.execute(f"DROP FUNCTION IF EXISTS {SIGNATURE}")
    for name in reversed(list(INDEXES)):
        op.execute(f"DROP INDEX IF EXISTS {name}")
