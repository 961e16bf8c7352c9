"""File storage and documents: rules the database keeps, whoever sends the rows.

File bytes live in ``blob_chunks`` (about 1 MiB per row) under a ``storage_objects`` row,
content addressed per organization by sha256 (DESIGN.md §6). For a person (the command line
and restores are not held to these rules):

* ``storage_objects`` are created ``uploading`` with an announced ``expected_size`` no larger
  than the bucket's ``max_file_size`` (T-FILE-05: refused before a byte is sent) and change
  only through the functions below — persons lose UPDATE on the table.
* ``blob_chunks`` (BEFORE INSERT, ``tg_blob_chunk_rules``): each chunk must be the next one
  (``seq = chunk_count``; a wrong offset or a repeated seq is refused and changes nothing,
  T-FILE-08), every chunk but the last is full, the running size never passes the announced
  size. Each chunk keeps the sha256 its sender computed, which every read checks. The
  object's size and count move with each chunk under the object's row lock, so two senders
  can never interleave (T-FILE-09).
* ``fp_private.storage_complete(org, object, sha256)`` makes an upload visible: all bytes
  arrived; up to 16 MiB the server recomputes the whole file's sha256 itself (above that,
  where hashing in the server would cost seconds, every read and the storage sweep check each
  chunk and the whole file, so damage is found, never passed on); when
  the organization already holds the same content, the new copy is dropped and the existing
  object returned (never across organizations, T-FILE-06). The uploader always sends every
  byte, so the time an upload takes tells nothing about what is stored already.
* ``document_versions`` point only at complete objects, copy size and sha256 from them (not
  from the client), keep exactly one current version and the parent document's file columns
  in step; when the last version using some content goes, the content goes (T-FILE-07).
* Reading or downloading a document (``document_access_log``) counts on the document without
  counting as an edit (the lock version stays).
* ``fp_private.storage_cleanup(org)`` removes uploads left unfinished for a day (an app
  killed mid-upload; until then they can be resumed, T-FILE-02) and complete content that no
  version uses.

Policies tightened: a version may be added or changed only on a document the person may
change (revision 0001 let any staff member add a version to any document id, even one they
cannot read).

Revision ID: 20261125_0005
Revises: 20261125_0004
Create Date: 2026-11-25
"""

from __future__ import annotations

import importlib.util
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from alembic import op

revision: str = "20261125_0005"
down_revision: str | None = "20261125_0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

DEFINER = "SECURITY DEFINER SET search_path = pg_catalog, public"
ME = "(SELECT fp_private.my_person_id())"
INTERNAL = "organization_id = ANY ((SELECT fp_private.my_internal_org_ids())::uuid[])"
MANAGERS = (
    "organization_id = ANY ((SELECT fp_private.my_org_ids_with_role("
    "'{admin,management}'::public.user_role[]))::uuid[])"
)
# The server checks whole files up to this size when they complete (~70 ms at 16 MiB).
SERVER_HASH_LIMIT = 16 * 1024 * 1024

COLUMNS = """
ALTER TABLE blob_chunks ADD COLUMN sha256 bytea;
UPDATE blob_chunks SET sha256 = sha256(data);
ALTER TABLE blob_chunks ALTER COLUMN sha256 SET NOT NULL;
ALTER TABLE blob_chunks ADD CONSTRAINT blob_chunks_sha256_check CHECK (octet_length(sha256) = 32);
"""

FUNCTIONS = f"""
CREATE FUNCTION fp_private.size_words(bytes bigint) RETURNS text
LANGUAGE sql IMMUTABLE SET search_path = pg_catalog AS $$
    SELECT replace(pg_size_pretty(bytes), 'bytes', 'B')
$$;

-- New uploads: announced, within the bucket's limit, and nothing else chosen by the client.
CREATE FUNCTION fp_private.tg_storage_object_rules() RETURNS trigger
LANGUAGE plpgsql {DEFINER} AS $$
DECLARE
    max_size bigint;
BEGIN
    IF fp_private.my_person_id() IS NULL THEN
        RETURN NEW;
    END IF;
    SELECT b.max_file_size INTO max_size FROM public.storage_buckets b
    WHERE b.organization_id = NEW.organization_id AND b.id = NEW.bucket_id;
    IF NEW.expected_size IS NULL THEN
        RAISE EXCEPTION 'an upload must say how large the file is' USING ERRCODE = '22023';
    END IF;
    IF NEW.expected_size > max_size THEN
        RAISE EXCEPTION 'The file is too large: % (the limit is %)',
            fp_private.size_words(NEW.expected_size), fp_private.size_words(max_size)
            USING ERRCODE = 'FP413',
                  HINT = 'Split it, compress it, or link it from Google Drive instead.';
    END IF;
    IF NEW.chunk_size NOT BETWEEN 65536 AND 8388608 THEN
        RAISE EXCEPTION 'chunk size % is not allowed', NEW.chunk_size USING ERRCODE = '22023';
    END IF;
    NEW.status := 'uploading';
    NEW.size := 0;
    NEW.chunk_count := 0;
    NEW.sha256 := NULL;
    NEW.completed_at := NULL;
    NEW.verified_at := NULL;
    RETURN NEW;
END
$$;

-- Chunks arrive in order, whole, and only while their upload is open. Each carries the
-- sha256 its sender computed: readers check the bytes against it. (The server does not hash
-- them again: this build's sha256() runs at ~225 MB/s and would halve upload speed.)
CREATE FUNCTION fp_private.tg_blob_chunk_rules() RETURNS trigger
LANGUAGE plpgsql {DEFINER} AS $$
DECLARE
    o record;
    n bigint := octet_length(NEW.data);
BEGIN
    IF NEW.sha256 IS NULL THEN
        NEW.sha256 := sha256(NEW.data);
    END IF;
    IF fp_private.my_person_id() IS NULL THEN
        RETURN NEW;
    END IF;
    SELECT s.status, s.size, s.chunk_count, s.chunk_size, s.expected_size INTO o
    FROM public.storage_objects s
    WHERE s.organization_id = NEW.organization_id AND s.id = NEW.object_id
    FOR UPDATE;
    IF o.status IS DISTINCT FROM 'uploading' THEN
        RAISE EXCEPTION 'This upload is already finished or was cancelled'
            USING ERRCODE = 'FP410', HINT = 'Start the upload again.';
    END IF;
    IF NEW.seq <> o.chunk_count THEN
        RAISE EXCEPTION 'Part % of the file arrived where part % was expected',
            NEW.seq + 1, o.chunk_count + 1
            USING ERRCODE = 'FP416', HINT = 'Resume the upload: it continues where it stopped.';
    END IF;
    IF n = 0 OR n > o.chunk_size OR o.size <> o.chunk_count::bigint * o.chunk_size THEN
        RAISE EXCEPTION 'Part % of the file has the wrong size', NEW.seq + 1
            USING ERRCODE = 'FP416', HINT = 'Start the upload again.';
    END IF;
    IF o.size + n > o.expected_size THEN
        RAISE EXCEPTION 'The file is larger than announced when its upload started'
            USING ERRCODE = 'FP413', HINT = 'The file changed while it was sent; upload it again.';
    END IF;
    UPDATE public.storage_objects SET size = size + n, chunk_count = chunk_count + 1
    WHERE organization_id = NEW.organization_id AND id = NEW.object_id;
    RETURN NEW;
END
$$;

-- The digest of a file's chunk digests: equal contents have equal ones (same chunk size).
CREATE FUNCTION fp_private.chunks_digest(p_org uuid, p_object uuid) RETURNS bytea
LANGUAGE sql STABLE SET search_path = pg_catalog, public AS $$
    SELECT sha256(coalesce(string_agg(c.sha256, ''::bytea ORDER BY c.seq), ''::bytea))
    FROM public.blob_chunks c WHERE c.organization_id = p_org AND c.object_id = p_object
$$;

-- One lock per organization and content: completing an upload and releasing the last
-- reference to the same content never cross.
CREATE FUNCTION fp_private.lock_content(p_org uuid, p_sha256 text) RETURNS void
LANGUAGE sql SET search_path = pg_catalog AS $$
    SELECT pg_advisory_xact_lock(hashtextextended(p_org::text || ':' || p_sha256, 0))
$$;

CREATE FUNCTION fp_private.storage_complete(p_org uuid, p_object uuid, p_sha256 text)
RETURNS uuid LANGUAGE plpgsql {DEFINER} AS $$
DECLARE
    me uuid := fp_private.my_person_id();
    o record;
    existing record;
    whole text;
BEGIN
    IF me IS NULL OR NOT p_org = ANY (fp_private.my_internal_org_ids()) THEN
        RAISE EXCEPTION 'You are not allowed to store files in this organization'
            USING ERRCODE = '42501';
    END IF;
    IF p_sha256 IS NULL OR p_sha256 !~ '^[0-9a-f]{{64}}$' THEN
        RAISE EXCEPTION 'a sha256 is 64 hexadecimal digits' USING ERRCODE = '22023';
    END IF;
    SELECT * INTO o FROM public.storage_objects s
    WHERE s.organization_id = p_org AND s.id = p_object FOR UPDATE;
    IF NOT FOUND OR o.created_by IS DISTINCT FROM me THEN
        RAISE EXCEPTION 'This upload is not yours to finish' USING ERRCODE = '42501';
    END IF;
    IF o.status <> 'uploading' THEN
        RAISE EXCEPTION 'This upload is already finished or was cancelled'
            USING ERRCODE = 'FP410', HINT = 'Start the upload again.';
    END IF;
    IF o.size <> o.expected_size THEN
        RAISE EXCEPTION 'The upload is incomplete: % of % arrived',
            fp_private.size_words(o.size), fp_private.size_words(o.expected_size)
            USING ERRCODE = 'FP416', HINT = 'Resume the upload: it continues where it stopped.';
    END IF;
    IF o.size <= {SERVER_HASH_LIMIT} THEN
        SELECT encode(sha256(coalesce(string_agg(c.data, ''::bytea ORDER BY c.seq),
                                      ''::bytea)), 'hex')
        INTO whole FROM public.blob_chunks c
        WHERE c.organization_id = p_org AND c.object_id = p_object;
        IF whole <> p_sha256 THEN
            RAISE EXCEPTION 'The file arrived different from what was sent'
                USING ERRCODE = 'FP422', HINT = 'Try the upload again.';
        END IF;
    END IF;
    PERFORM fp_private.lock_content(p_org, p_sha256);
    SELECT s.id, s.size, s.chunk_size INTO existing FROM public.storage_objects s
    WHERE s.organization_id = p_org AND s.sha256 = p_sha256 AND s.status = 'complete'
    FOR SHARE;
    IF FOUND THEN
        IF existing.size <> o.size OR (existing.chunk_size = o.chunk_size
                AND fp_private.chunks_digest(p_org, existing.id)
                    <> fp_private.chunks_digest(p_org, p_object)) THEN
            RAISE EXCEPTION 'The file arrived different from what was sent'
                USING ERRCODE = 'FP422', HINT = 'Try the upload again.';
        END IF;
        DELETE FROM public.storage_objects WHERE organization_id = p_org AND id = p_object;
        RETURN existing.id;
    END IF;
    UPDATE public.storage_objects
    SET status = 'complete', sha256 = p_sha256, completed_at = now(), verified_at = now()
    WHERE organization_id = p_org AND id = p_object;
    RETURN p_object;
END
$$;

-- Versions point only at finished content, and take size and checksum from it.
CREATE FUNCTION fp_private.tg_document_version_rules() RETURNS trigger
LANGUAGE plpgsql {DEFINER} AS $$
DECLARE
    o record;
BEGIN
    IF TG_OP = 'UPDATE' AND (NEW.document_id <> OLD.document_id
                             OR NEW.version_number <> OLD.version_number) THEN
        RAISE EXCEPTION 'a version stays with its document and number' USING ERRCODE = '42501';
    END IF;
    IF NEW.storage_object_id IS NULL THEN
        RETURN NEW;
    END IF;
    SELECT s.status, s.size, s.sha256 INTO o FROM public.storage_objects s
    WHERE s.organization_id = NEW.organization_id AND s.id = NEW.storage_object_id;
    IF o.status IS DISTINCT FROM 'complete' THEN
        RAISE EXCEPTION 'The file has not finished uploading' USING ERRCODE = 'FP410';
    END IF;
    NEW.file_size := o.size;
    NEW.sha256 := o.sha256;
    RETURN NEW;
END
$$;

-- One current version, and the document shows it.
CREATE FUNCTION fp_private.tg_document_version_current() RETURNS trigger
LANGUAGE plpgsql {DEFINER} AS $$
BEGIN
    IF NOT NEW.is_current THEN
        RETURN NULL;
    END IF;
    UPDATE public.document_versions SET is_current = false
    WHERE organization_id = NEW.organization_id AND document_id = NEW.document_id
      AND id <> NEW.id AND is_current;
    UPDATE public.documents d SET
        current_version_number = NEW.version_number,
        file_name = NEW.file_name,
        file_size = NEW.file_size,
        mime_type = NEW.mime_type,
        file_type = nullif(lower(substring(NEW.file_name FROM '\\.([^.]+)$')), ''),
        file_path = CASE WHEN NEW.storage_object_id IS NULL THEN d.file_path
                         ELSE 'documents/' || NEW.sha256 END
    WHERE d.organization_id = NEW.organization_id AND d.id = NEW.document_id;
    RETURN NULL;
END
$$;

-- The current version is not deleted on its own (make another current, or delete the
-- document); deleting a whole document takes its versions along.
CREATE FUNCTION fp_private.tg_document_version_delete() RETURNS trigger
LANGUAGE plpgsql {DEFINER} AS $$
BEGIN
    IF OLD.is_current AND fp_private.my_person_id() IS NOT NULL AND EXISTS (
        SELECT 1 FROM public.documents d
        WHERE d.organization_id = OLD.organization_id AND d.id = OLD.document_id
    ) THEN
        RAISE EXCEPTION 'The current version cannot be deleted'
            USING ERRCODE = 'FP409',
                  HINT = 'Make another version current first, or delete the whole document.';
    END IF;
    RETURN OLD;
END
$$;

-- Content no version uses any more goes with its last reference (T-FILE-07).
CREATE FUNCTION fp_private.tg_document_version_release() RETURNS trigger
LANGUAGE plpgsql {DEFINER} AS $$
DECLARE
    content text;
BEGIN
    IF OLD.storage_object_id IS NULL OR (TG_OP = 'UPDATE'
            AND NEW.storage_object_id IS NOT DISTINCT FROM OLD.storage_object_id) THEN
        RETURN NULL;
    END IF;
    SELECT s.sha256 INTO content FROM public.storage_objects s
    WHERE s.organization_id = OLD.organization_id AND s.id = OLD.storage_object_id;
    IF content IS NOT NULL THEN
        PERFORM fp_private.lock_content(OLD.organization_id, content);
    END IF;
    DELETE FROM public.storage_objects s
    WHERE s.organization_id = OLD.organization_id AND s.id = OLD.storage_object_id
      AND NOT EXISTS (
          SELECT 1 FROM public.document_versions v
          WHERE v.organization_id = s.organization_id AND v.storage_object_id = s.id);
    RETURN NULL;
END
$$;

-- Views and downloads count on the document (ORIGIN.md §2.2) and stamp where from.
CREATE FUNCTION fp_private.tg_document_access_stamp() RETURNS trigger
LANGUAGE plpgsql {DEFINER} AS $$
BEGIN
    IF fp_private.my_person_id() IS NOT NULL THEN
        NEW.accessed_at := now();
        NEW.ip_address := inet_client_addr();
    END IF;
    RETURN NEW;
END
$$;

CREATE FUNCTION fp_private.tg_document_access_count() RETURNS trigger
LANGUAGE plpgsql {DEFINER} AS $$
BEGIN
    IF NEW.action IN ('view', 'download') THEN
        UPDATE public.documents SET link_access_count = link_access_count + 1,
                                    link_last_accessed = NEW.accessed_at
        WHERE organization_id = NEW.organization_id AND id = NEW.document_id;
    END IF;
    RETURN NULL;
END
$$;

-- Runs after documents_touch: a change of the access counters alone is not an edit, so
-- someone reading a document never makes another person's edit of it a conflict.
CREATE FUNCTION fp_private.tg_document_untouched_by_access() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, public AS $$
BEGIN
    IF (to_jsonb(NEW) - 'link_access_count' - 'link_last_accessed' - 'updated_at' - 'version')
       = (to_jsonb(OLD) - 'link_access_count' - 'link_last_accessed' - 'updated_at' - 'version')
    THEN
        NEW.version := OLD.version;
        NEW.updated_at := OLD.updated_at;
    END IF;
    RETURN NEW;
END
$$;

-- Unfinished uploads older than p_stale (resumable until then) and content no version uses.
CREATE FUNCTION fp_private.storage_cleanup(p_org uuid, p_stale interval DEFAULT '24 hours')
RETURNS integer LANGUAGE plpgsql {DEFINER} AS $$
DECLARE
    removed integer;
BEGIN
    IF NOT (fp_private.caller_is_owner() OR p_org = ANY (fp_private.my_internal_org_ids())) THEN
        RAISE EXCEPTION 'You are not allowed to tidy this organization''s files'
            USING ERRCODE = '42501';
    END IF;
    DELETE FROM public.storage_objects s
    WHERE s.organization_id = p_org AND (
        (s.status = 'uploading' AND s.updated_at < now() - p_stale)
        OR (s.status = 'complete' AND s.completed_at < now() - interval '1 hour'
            AND NOT EXISTS (SELECT 1 FROM public.document_versions v
                            WHERE v.organization_id = s.organization_id
                              AND v.storage_object_id = s.id)));
    GET DIAGNOSTICS removed = ROW_COUNT;
    RETURN removed;
END
$$;
"""

TRIGGERS = """
CREATE TRIGGER storage_objects_rules BEFORE INSERT ON storage_objects
    FOR EACH ROW EXECUTE FUNCTION fp_private.tg_storage_object_rules();
CREATE TRIGGER blob_chunks_rules BEFORE INSERT ON blob_chunks
    FOR EACH ROW EXECUTE FUNCTION fp_private.tg_blob_chunk_rules();
CREATE TRIGGER document_versions_rules
    BEFORE INSERT OR UPDATE OF storage_object_id, document_id, version_number
    ON document_versions FOR EACH ROW EXECUTE FUNCTION fp_private.tg_document_version_rules();
CREATE TRIGGER document_versions_current AFTER INSERT OR UPDATE OF is_current
    ON document_versions FOR EACH ROW EXECUTE FUNCTION fp_private.tg_document_version_current();
CREATE TRIGGER document_versions_delete BEFORE DELETE ON document_versions
    FOR EACH ROW EXECUTE FUNCTION fp_private.tg_document_version_delete();
CREATE TRIGGER document_versions_release AFTER DELETE OR UPDATE OF storage_object_id
    ON document_versions FOR EACH ROW EXECUTE FUNCTION fp_private.tg_document_version_release();
CREATE TRIGGER document_access_log_stamp BEFORE INSERT ON document_access_log
    FOR EACH ROW EXECUTE FUNCTION fp_private.tg_document_access_stamp();
CREATE TRIGGER document_access_log_count AFTER INSERT ON document_access_log
    FOR EACH ROW EXECUTE FUNCTION fp_private.tg_document_access_count();
CREATE TRIGGER documents_untouched_by_access BEFORE UPDATE ON documents
    FOR EACH ROW EXECUTE FUNCTION fp_private.tg_document_untouched_by_access();
"""

# Who may change a document (revision 0001's documents update rule), as seen from a version.
DOCUMENT_WRITABLE = (
    "EXISTS (SELECT 1 FROM documents d WHERE d.organization_id = "
    "document_versions.organization_id AND d.id = document_versions.document_id AND ("
    f"d.organization_id = ANY ((SELECT fp_private.my_org_ids_with_role("
    "'{admin,management}'::public.user_role[]))::uuid[]) "
    f"OR d.uploaded_by = {ME} OR d.access_level <> 'confidential'))"
)

POLICIES = f"""
ALTER POLICY document_versions_insert ON document_versions
    WITH CHECK ({INTERNAL} AND {DOCUMENT_WRITABLE});
ALTER POLICY document_versions_update ON document_versions
    USING ({INTERNAL} AND {DOCUMENT_WRITABLE}) WITH CHECK ({INTERNAL} AND {DOCUMENT_WRITABLE});
ALTER POLICY document_versions_delete ON document_versions
    USING ({MANAGERS} OR ({INTERNAL} AND uploaded_by = {ME} AND {DOCUMENT_WRITABLE}));
-- Objects change only through the chunk trigger and storage_complete; chunks are never
-- deleted one by one (cancelling an upload deletes its object, and the chunks with it).
ALTER POLICY storage_objects_update ON storage_objects USING (false) WITH CHECK (false);
REVOKE UPDATE ON storage_objects FROM fp_member;
ALTER POLICY blob_chunks_delete ON blob_chunks USING (false);
REVOKE DELETE ON blob_chunks FROM fp_member;
"""

OWNED = (
    "tg_storage_object_rules()",
    "tg_blob_chunk_rules()",
    "tg_document_version_rules()",
    "tg_document_version_current()",
    "tg_document_version_delete()",
    "tg_document_version_release()",
    "tg_document_access_stamp()",
    "tg_document_access_count()",
    "tg_document_untouched_by_access()",
    "chunks_digest(uuid, uuid)",
    "lock_content(uuid, text)",
    "size_words(bigint)",
)
MEMBER_CALLABLE = (
    "storage_complete(uuid, uuid, text)",
    "storage_cleanup(uuid, interval)",
)


def upgrade() -> None:
    op.execute(COLUMNS)
    op.execute(FUNCTIONS)
    op.execute(TRIGGERS)
    op.execute(POLICIES)
    for fn in OWNED + MEMBER_CALLABLE:
        op.execute(f"REVOKE EXECUTE ON FUNCTION fp_private.{fn} FROM PUBLIC")
        op.execute(f"ALTER FUNCTION fp_private.{fn} OWNER TO fp_security")
    for fn in MEMBER_CALLABLE:
        op.execute(f"GRANT EXECUTE ON FUNCTION fp_private.{fn} TO fp_member")


def downgrade() -> None:
    for trigger, table in (
        ("storage_objects_rules", "storage_objects"),
        ("blob_chunks_rules", "blob_chunks"),
        ("document_versions_rules", "document_versions"),
        ("document_versions_current", "document_versions"),
        ("document_versions_delete", "document_versions"),
        ("document_versions_release", "document_versions"),
        ("document_access_log_stamp", "document_access_log"),
        ("document_access_log_count", "document_access_log"),
        ("documents_untouched_by_access", "documents"),
    ):
        op.execute(f"DROP TRIGGER IF EXISTS {trigger} ON {table}")
    for fn in MEMBER_CALLABLE + OWNED:
        op.execute(f"DROP FUNCTION IF EXISTS fp_private.{fn}")
    foundation = _foundation()
    versions = foundation.POLICIES["document_versions"]
    objects = foundation.POLICIES["storage_objects"]
    chunks = foundation.POLICIES["blob_chunks"]
    op.execute(f"""
ALTER POLICY document_versions_insert ON document_versions WITH CHECK ({versions[1]});
ALTER POLICY document_versions_update ON document_versions
    USING ({versions[2]}) WITH CHECK ({versions[2]});
ALTER POLICY document_versions_delete ON document_versions USING ({versions[3]});
ALTER POLICY storage_objects_update ON storage_objects
    USING ({objects[2]}) WITH CHECK ({objects[2]});
GRANT UPDATE ON storage_objects TO fp_member;
ALTER POLICY blob_chunks_delete ON blob_chunks USING ({chunks[3]});
GRANT DELETE ON blob_chunks TO fp_member;
ALTER TABLE blob_chunks DROP COLUMN IF EXISTS sha256;
""")


def _foundation() -> Any:
    """Revision 0001's module, for the policies a downgrade puts back."""
    spec = importlib.util.spec_from_file_location(
        "foundation_0001", Path(__file__).with_name("20261125_0001_foundation.py"))
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
