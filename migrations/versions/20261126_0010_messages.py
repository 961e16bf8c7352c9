"""Messages: threads, replies, mentions, attachments and read state.

Revision 0001 made the tables; this revision adds the rules, all enforced in PostgreSQL:

* **Threads.** A reply (``parent_message_id``) joins its parent's thread (``thread_id`` is the
  root's id) and takes the parent's project, record and message type, whatever the client
  sent; a root message is its own thread. The parent is looked up *as the caller* (the trigger
  runs with the caller's rights, so row level security applies): a reply to a message the
  person cannot see is refused as if it did not exist.
* **Edit and delete.** Only the sender changes a message's text (``edited_at`` is stamped by
  the database). Deleting is a soft delete by the sender or a manager: ``deleted_at`` is
  stamped, the text and subject are blanked and its mentions and attachments removed — in the
  database, so nobody reads a deleted message through psql either. A deleted message is never
  edited or restored; a message never moves to another thread, project or sender. Rows are
  never hard-deleted by persons (a root's replies would go with it).
* **Readers.** Staff of the organization read the messages of the projects they see (not the
  ones addressed to someone else); sender and recipient read their own messages — except that
  portal logins (customer or supplier contacts) never read ``internal`` messages, and may only
  write non-internal messages addressed to someone.
* **Mentions and attachments** are added only by the message's sender. A mentioned person is
  an active member of the organization who can read the message (staff see every project of
  their organization; a portal person only a non-internal message sent to or by them). An
  attached document is one the sender can see and, on a project message, of the same project.
* **Read state**: a person marks read only messages they can read, in their own name.

Revision ID: 20261126_0010
Revises: 20261126_0009
Create Date: 2026-11-26
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "20261126_0010"
down_revision: str | None = "20261126_0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

DEFINER = "SECURITY DEFINER SET search_path = pg_catalog, public"
ME = "(SELECT fp_private.my_person_id())"
MINE = "organization_id = ANY ((SELECT fp_private.my_org_ids())::uuid[])"
INTERNAL = "organization_id = ANY ((SELECT fp_private.my_internal_org_ids())::uuid[])"
MANAGERS = ("organization_id = ANY ((SELECT fp_private.my_org_ids_with_role("
            "'{admin,management}'::public.user_role[]))::uuid[])")
PROJECT_SEEN = ("(project_id IS NULL OR EXISTS (SELECT 1 FROM projects pv WHERE "
                "pv.organization_id = messages.organization_id AND pv.id = messages.project_id))")


def _visible(table: str) -> str:
    """The row's message is one the caller can read (the messages policy applies inside)."""
    return (f"EXISTS (SELECT 1 FROM messages mm WHERE mm.organization_id = {table}.organization_id "
            f"AND mm.id = {table}.message_id)")


def _own_message(table: str) -> str:
    return (f"EXISTS (SELECT 1 FROM messages mm WHERE mm.organization_id = {table}.organization_id "
            f"AND mm.id = {table}.message_id AND mm.sender_id = {ME})")


# (policy, table, command, new rule, rule of revision 0001)
OLD_READERS = (
    f"sender_id = {ME} OR recipient_id = {ME} OR ({INTERNAL} AND recipient_id IS NULL "
    "AND (project_id IS NULL OR EXISTS (SELECT 1 FROM projects pv WHERE pv.organization_id = "
    "messages.organization_id AND pv.id = messages.project_id)))"
)
READERS = (
    f"((sender_id = {ME} OR recipient_id = {ME}) AND ({INTERNAL} OR message_type <> 'internal')) "
    f"OR ({INTERNAL} AND recipient_id IS NULL AND {PROJECT_SEEN})"
)
POLICIES: tuple[tuple[str, str, str, str, str], ...] = (
    ("messages_select", "messages", "SELECT", READERS, OLD_READERS),
    ("messages_insert", "messages", "INSERT",
     f"{INTERNAL} OR (recipient_id IS NOT NULL AND {MINE} AND message_type <> 'internal')",
     f"{INTERNAL} OR (recipient_id IS NOT NULL AND {MINE})"),
    ("messages_update", "messages", "UPDATE", f"sender_id = {ME} OR {MANAGERS}",
     f"sender_id = {ME}"),
    ("message_reads_select", "message_reads", "SELECT",
     f"person_id = {ME} OR ({INTERNAL} AND {_visible('message_reads')})",
     f"person_id = {ME} OR {INTERNAL}"),
    ("message_reads_insert", "message_reads", "INSERT",
     f"person_id = {ME} AND {_visible('message_reads')}", f"person_id = {ME}"),
    ("message_mentions_insert", "message_mentions", "INSERT", _own_message("message_mentions"),
     INTERNAL),
    ("message_mentions_delete", "message_mentions", "DELETE", _own_message("message_mentions"),
     INTERNAL),
    ("message_attachments_insert", "message_attachments", "INSERT",
     f"{_own_message('message_attachments')} AND EXISTS (SELECT 1 FROM documents dv WHERE "
     "dv.organization_id = message_attachments.organization_id AND "
     "dv.id = message_attachments.document_id)", MINE),
    ("message_attachments_delete", "message_attachments", "DELETE",
     _own_message("message_attachments"), INTERNAL),
)

FUNCTIONS = f"""
-- Runs with the caller's rights on purpose: the parent is read through row level security,
-- so a reply to a message the person cannot see finds nothing and is refused.
CREATE FUNCTION fp_private.tg_message_thread() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, public AS $$
DECLARE
    parent record;
BEGIN
    IF btrim(NEW.content) = '' THEN
        RAISE EXCEPTION 'A message needs some text' USING ERRCODE = '22023';
    END IF;
    IF NEW.parent_message_id IS NULL THEN
        NEW.thread_id := NEW.id;
    ELSE
        SELECT m.id, m.thread_id, m.project_id, m.supplier_rfq_id, m.purchase_order_id,
               m.production_order_id, m.message_type
        INTO parent FROM public.messages m
        WHERE m.organization_id = NEW.organization_id AND m.id = NEW.parent_message_id;
        IF NOT FOUND THEN
            RAISE EXCEPTION 'The message you answer does not exist, or you may not see it'
                USING ERRCODE = '42501';
        END IF;
        NEW.thread_id := coalesce(parent.thread_id, parent.id);
        NEW.project_id := parent.project_id;
        NEW.supplier_rfq_id := parent.supplier_rfq_id;
        NEW.purchase_order_id := parent.purchase_order_id;
        NEW.production_order_id := parent.production_order_id;
        NEW.message_type := parent.message_type;  -- an internal thread stays internal
    END IF;
    IF fp_private.my_person_id() IS NOT NULL THEN
        NEW.edited_at := NULL;
        NEW.deleted_at := NULL;
    END IF;
    RETURN NEW;
END
$$;

CREATE FUNCTION fp_private.tg_message_rules() RETURNS trigger LANGUAGE plpgsql {DEFINER} AS $$
DECLARE
    me uuid := fp_private.my_person_id();
    free constant text[] := ARRAY['content', 'subject', 'deleted_at', 'edited_at', 'updated_at',
                                  'version', 'search_text'];
BEGIN
    IF me IS NULL THEN
        RETURN NEW;  -- the command line (imports, repairs)
    END IF;
    IF OLD.deleted_at IS NOT NULL THEN
        RAISE EXCEPTION 'This message was deleted' USING ERRCODE = 'FP409',
            HINT = 'Reload the conversation.';
    END IF;
    IF (to_jsonb(NEW) - free) IS DISTINCT FROM (to_jsonb(OLD) - free) THEN
        RAISE EXCEPTION 'A message stays in its thread; only its text can be changed'
            USING ERRCODE = '42501';
    END IF;
    IF NEW.deleted_at IS NOT NULL THEN
        IF OLD.sender_id IS DISTINCT FROM me AND NOT OLD.organization_id = ANY (
                fp_private.my_org_ids_with_role('{{admin,management}}'::public.user_role[])) THEN
            RAISE EXCEPTION 'Only the sender or a manager can delete a message'
                USING ERRCODE = '42501';
        END IF;
        NEW.deleted_at := now();
        NEW.content := '';
        NEW.subject := NULL;
        NEW.edited_at := OLD.edited_at;
        DELETE FROM public.message_mentions x
        WHERE x.organization_id = OLD.organization_id AND x.message_id = OLD.id;
        DELETE FROM public.message_attachments x
        WHERE x.organization_id = OLD.organization_id AND x.message_id = OLD.id;
        RETURN NEW;
    END IF;
    IF NEW.content IS DISTINCT FROM OLD.content OR NEW.subject IS DISTINCT FROM OLD.subject THEN
        IF OLD.sender_id IS DISTINCT FROM me THEN
            RAISE EXCEPTION 'Only the sender can edit a message' USING ERRCODE = '42501';
        END IF;
        IF btrim(NEW.content) = '' THEN
            RAISE EXCEPTION 'A message needs some text' USING ERRCODE = '22023';
        END IF;
        NEW.edited_at := now();
    ELSE
        NEW.edited_at := OLD.edited_at;
    END IF;
    RETURN NEW;
END
$$;

-- Whoever is mentioned must be able to read the message.
CREATE FUNCTION fp_private.tg_message_mention_rules() RETURNS trigger
LANGUAGE plpgsql {DEFINER} AS $$
DECLARE
    msg record;
    member record;
BEGIN
    SELECT m.sender_id, m.recipient_id, m.message_type INTO msg FROM public.messages m
    WHERE m.organization_id = NEW.organization_id AND m.id = NEW.message_id;
    SELECT ms.role, ms.status, p.display_name, p.status AS person_status INTO member
    FROM public.memberships ms JOIN public.persons p ON p.id = ms.person_id
    WHERE ms.organization_id = NEW.organization_id AND ms.person_id = NEW.person_id;
    IF NOT FOUND OR member.status <> 'active' OR member.person_status <> 'active' THEN
        RAISE EXCEPTION 'Only active members of this organization can be mentioned'
            USING ERRCODE = '22023';
    END IF;
    IF NEW.person_id IS DISTINCT FROM msg.sender_id
       AND NEW.person_id IS DISTINCT FROM msg.recipient_id
       AND (msg.recipient_id IS NOT NULL OR member.role IN ('customer', 'supplier'))
       OR (member.role IN ('customer', 'supplier') AND msg.message_type = 'internal') THEN
        RAISE EXCEPTION '% cannot read this message, so cannot be mentioned in it',
            member.display_name USING ERRCODE = '22023';
    END IF;
    RETURN NEW;
END
$$;

-- A project message carries documents of its own project only.
CREATE FUNCTION fp_private.tg_message_attachment_rules() RETURNS trigger
LANGUAGE plpgsql {DEFINER} AS $$
DECLARE
    message_project uuid;
    document_project uuid;
BEGIN
    SELECT m.project_id INTO message_project FROM public.messages m
    WHERE m.organization_id = NEW.organization_id AND m.id = NEW.message_id;
    SELECT d.project_id INTO document_project FROM public.documents d
    WHERE d.organization_id = NEW.organization_id AND d.id = NEW.document_id;
    IF message_project IS NOT NULL AND document_project IS DISTINCT FROM message_project THEN
        RAISE EXCEPTION 'Only documents of this project can be attached to its messages'
            USING ERRCODE = '22023';
    END IF;
    RETURN NEW;
END
$$;

CREATE TRIGGER messages_thread BEFORE INSERT ON messages
    FOR EACH ROW EXECUTE FUNCTION fp_private.tg_message_thread();
CREATE TRIGGER messages_rules BEFORE UPDATE ON messages
    FOR EACH ROW EXECUTE FUNCTION fp_private.tg_message_rules();
CREATE TRIGGER message_mentions_rules BEFORE INSERT ON message_mentions
    FOR EACH ROW EXECUTE FUNCTION fp_private.tg_message_mention_rules();
CREATE TRIGGER message_attachments_rules BEFORE INSERT ON message_attachments
    FOR EACH ROW EXECUTE FUNCTION fp_private.tg_message_attachment_rules();
"""

OWNED = ("tg_message_rules()", "tg_message_mention_rules()", "tg_message_attachment_rules()")
TRIGGERS = (("messages_thread", "messages"), ("messages_rules", "messages"),
            ("message_mentions_rules", "message_mentions"),
            ("message_attachments_rules", "message_attachments"))

# The thread list of a project reads only root messages, newest first; "where is this
# document attached" (and deleting a document) looks attachments up by document.
INDEXES = (
    ("messages_threads_idx",
     "ON messages (organization_id, project_id, created_at DESC) "
     "WHERE parent_message_id IS NULL"),
    ("message_attachments_document_idx", "ON message_attachments (organization_id, document_id)"),
)


def _alter(name: str, table: str, command: str, rule: str) -> str:
    if command == "INSERT":
        return f"ALTER POLICY {name} ON {table} WITH CHECK ({rule})"
    if command == "UPDATE":
        return f"ALTER POLICY {name} ON {table} USING ({rule}) WITH CHECK ({rule})"
    return f"ALTER POLICY {name} ON {table} USING ({rule})"


def upgrade() -> None:
    for name, ddl in INDEXES:
        op.execute(f"CREATE INDEX {name} {ddl}")
    op.execute(FUNCTIONS)
    op.execute("REVOKE EXECUTE ON FUNCTION fp_private.tg_message_thread() FROM PUBLIC")
    for fn in OWNED:
        op.execute(f"REVOKE EXECUTE ON FUNCTION fp_private.{fn} FROM PUBLIC")
        op.execute(f"ALTER FUNCTION fp_private.{fn} OWNER TO fp_security")
    for name, table, command, rule, _old in POLICIES:
        op.execute(_alter(name, table, command, rule))
    # Deleting is a soft delete (an UPDATE); a hard delete would take a root's replies along.
    op.execute("ALTER POLICY messages_delete ON messages USING (false)")
    op.execute("REVOKE DELETE ON messages FROM fp_member")


def downgrade() -> None:
    op.execute("GRANT DELETE ON messages TO fp_member")
    op.execute(f"ALTER POLICY messages_delete ON messages USING ({MANAGERS} OR sender_id = {ME})")
    for name, table, command, _rule, old in POLICIES:
        op.execute(_alter(name, table, command, old))
    for trigger, table in TRIGGERS:
        op.execute(f"DROP TRIGGER IF EXISTS {trigger} ON {table}")
    for fn in ("tg_message_thread()", *OWNED):
        op.execute(f"DROP FUNCTION IF EXISTS fp_private.{fn}")
    for name, _ddl in INDEXES:
        op.execute(f"DROP INDEX IF EXISTS {name}")
