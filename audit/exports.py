"""Exports of the audit log: CSV (formula-safe) and JSON Lines, streamed in constant memory.

Rows come from ``values_list(...).iterator(chunk_size=...)`` inside a transaction, which on
PostgreSQL is a psycopg server-side cursor: the server hands over one chunk at a time and no
list of rows is ever built. The same generators feed the streamed HTTP answer and the file of a
background export job (``write_job``).

Every export is itself audited: ``audit.exported`` with the filters, the format, how it was
delivered and the row count, one event per workspace whose rows it contains (so each
workspace's auditors see who exported their log).
"""

import csv
import hashlib
import json
import os
from collections import Counter
from pathlib import Path

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Count, Max
from django.utils import timezone

from accounts.models import Workspace
from audit import actions
from audit.access import AuditScope
from audit.models import AuditExport, ExportStatus
from audit.selectors import events_matching
from audit.services import record
from audit.verification import verify_chain

CHUNK = 2000
EXPORT_FIELDS = (
    "id", "time", "seq", "workspace_id", "workspace_slug", "actor_id", "actor_name", "actor_kind", "token_id",
    "auth_method", "source_ip", "user_agent", "client_version", "request_id", "action", "target_type", "target_id",
    "target_name", "outcome", "error_code", "changes", "prev_hash", "hash",
)
_WORKSPACE_COLUMN = EXPORT_FIELDS.index("workspace_id")
# A spreadsheet runs a cell that starts with one of these as a formula (CSV injection).
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
CONTENT_TYPES = {"csv": "text/csv; charset=utf-8", "jsonl": "application/x-ndjson"}


def formula_safe(text: str) -> str:
    return "'" + text if text.startswith(_FORMULA_STARTS) else text


def _cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, dict | list):
        value = json.dumps(value, sort_keys=True, ensure_ascii=False)
    elif hasattr(value, "isoformat"):
        value = value.isoformat()
    return formula_safe(str(value))


def rows_of(queryset):
    """Tuples of ``EXPORT_FIELDS`` in id order, one chunk at a time. On PostgreSQL inside a
    transaction, so the iterator is a server-side cursor without WITH HOLD (which would make the
    server materialise the whole result first). SQLite fetches in chunks from its own cursor; a
    transaction there would take the write lock for the length of the export."""
    rows = queryset.order_by("id").values_list(*EXPORT_FIELDS)
    if connection.vendor != "postgresql":
        yield from rows.iterator(chunk_size=CHUNK)
        return
    with transaction.atomic():
        yield from rows.iterator(chunk_size=CHUNK)


class _Line:
    """csv.writer's file: hands back what it was given, so each row becomes one string."""

    def write(self, text):
        return text


def csv_chunks(rows):
    writer = csv.writer(_Line())
    yield writer.writerow(EXPORT_FIELDS).encode()
    batch = []
    for row in rows:
        batch.append(writer.writerow([_cell(value) for value in row]))
        if len(batch) >= 500:
            yield "".join(batch).encode()
            batch.clear()
    if batch:
        yield "".join(batch).encode()


def _json_value(value):
    return value.isoformat() if hasattr(value, "isoformat") else value


def jsonl_chunks(rows):
    batch = []
    for row in rows:
        item = {name: _json_value(value) for name, value in zip(EXPORT_FIELDS, row)}
        batch.append(json.dumps(item, ensure_ascii=False, separators=(",", ":"), default=str) + "\n")
        if len(batch) >= 500:
            yield "".join(batch).encode()
            batch.clear()
    if batch:
        yield "".join(batch).encode()


CHUNKERS = {"csv": csv_chunks, "jsonl": jsonl_chunks}


def _workspace(workspace_id, slug):
    """The workspace an export event belongs to (it may have been deleted since; the id stays)."""
    return Workspace(pk=workspace_id, slug=slug) if workspace_id is not None else None


def _record_exported(counts: dict, *, detail: dict, actor=None, fallback_workspace=None) -> None:
    """One ``audit.exported`` per workspace the export holds rows of (``counts``: (id, slug) -> rows)."""
    total = sum(counts.values())
    if not counts:
        counts = {(getattr(fallback_workspace, "pk", None), getattr(fallback_workspace, "slug", "")): 0}
    for (workspace_id, slug), rows in sorted(counts.items(), key=lambda item: (item[0][0] or 0)):
        record(
            actions.AUDIT_EXPORTED,
            workspace=_workspace(workspace_id, slug),
            actor=actor,
            target_type="audit_log",
            target_id=slug or "",
            changes={**detail, "rows": rows, "total_rows": total},
        )


def start_stream(queryset, *, actor, fmt: str, filters: dict, workspace=None):
    """Count and audit a streamed export, then return its chunks. The rows streamed are those
    counted: events added after the count (this export's own events among them) are left out."""
    stats = list(queryset.order_by().values("workspace_id").annotate(rows=Count("id"), last=Max("id"), slug=Max("workspace_slug")))
    last_id = max((row["last"] for row in stats), default=0)
    counts = {(row["workspace_id"], row["slug"]): row["rows"] for row in stats}
    with transaction.atomic():
        _record_exported(counts, detail={"format": fmt, "delivery": "stream", "filters": filters}, actor=actor,
                         fallback_workspace=workspace)
    return CHUNKERS[fmt](rows_of(queryset.filter(id__lte=last_id)))


# ---------------------------------------------------------------- background jobs


def export_dir() -> Path:
    folder = Path(settings.WARDEN_AUDIT_EXPORT_DIR)
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    return folder


def job_path(job: AuditExport) -> Path:
    return export_dir() / job.file_name


def file_response(job: AuditExport):
    """The finished job's file as an attachment, with its checksum; None when the file is gone."""
    from django.http import FileResponse

    path = job_path(job)
    if not path.is_file():
        return None
    response = FileResponse(path.open("rb"), as_attachment=True, filename=job.file_name, content_type=CONTENT_TYPES[job.format])
    response["X-Checksum-SHA256"] = job.sha256
    return response


def requester_scope(job: AuditExport) -> AuditScope:
    """The scope the job was asked with, narrowed to what its requester audits now (a grant
    revoked since then takes its workspace out of the file, and out of the download)."""
    from accounts.authentication import Principal
    from audit.access import scope_of

    now = scope_of(Principal(user=job.requested_by, token=None, auth_method="job"))
    return AuditScope.from_json(job.scope).within(now)


def may_download(job: AuditExport) -> bool:
    return requester_scope(job) == AuditScope.from_json(job.scope)


def job_queryset(job: AuditExport):
    scope = requester_scope(job)
    filters = dict(job.filters)
    workspace = None
    if filters.get("workspace"):
        workspace = Workspace.objects.filter(slug=filters["workspace"]).first()
        if workspace is None or not scope.covers(workspace.pk):
            return scope, scope.events().none(), None
    return scope, events_matching(scope, filters, workspace), workspace


def _chains_to_verify(scope: AuditScope, workspace, counts) -> list[int]:
    """The chains the file holds rows of; for an empty file, the chains it was asked about."""
    keys = {key or 0 for key in counts}
    if not keys and workspace is not None:
        keys = {workspace.pk}
    elif not keys and not scope.is_global:
        keys = set(scope.workspace_ids)
    return sorted(keys)


def _counting(rows, counts: Counter, slugs: dict):
    for row in rows:
        workspace_id = row[_WORKSPACE_COLUMN]
        counts[workspace_id] += 1
        slugs.setdefault(workspace_id, row[_WORKSPACE_COLUMN + 1])
        yield row


def write_job(job_id: int) -> AuditExport:
    """Write a job's file under the private export folder, then its checksum, the verification
    of every chain it covers and its ``audit.exported`` events, in one transaction."""
    with transaction.atomic():
        job = AuditExport.objects.select_for_update().select_related("requested_by").get(pk=job_id)
        if job.status not in (ExportStatus.PENDING, ExportStatus.RUNNING):
            return job  # already done (a redelivered task)
        job.status, job.started_at = ExportStatus.RUNNING, timezone.now()
        job.file_name = f"audit-export-{job.pk}.{job.format}"
        job.save(update_fields=["status", "started_at", "file_name"])
    try:
        scope, queryset, workspace = job_queryset(job)
        counts, slugs = Counter(), {}
        digest, size = hashlib.sha256(), 0
        target = job_path(job)
        partial = target.with_suffix(target.suffix + ".partial")
        descriptor = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, "wb") as out:
            for chunk in CHUNKERS[job.format](_counting(rows_of(queryset), counts, slugs)):
                out.write(chunk)
                digest.update(chunk)
                size += len(chunk)
        partial.replace(target)
        chain_keys = _chains_to_verify(scope, workspace, counts)
        verification = [{**verify_chain(key).as_dict(), "workspace": _slug_of(key, slugs)} for key in chain_keys]
        with transaction.atomic():
            detail = {"format": job.format, "delivery": "job", "export_id": job.pk, "filters": job.filters, "sha256": digest.hexdigest()}
            per_workspace = {(key, slugs.get(key, "")): rows for key, rows in counts.items()}
            _record_exported(per_workspace, detail=detail, actor=job.requested_by, fallback_workspace=workspace)
            AuditExport.objects.filter(pk=job.pk).update(
                status=ExportStatus.DONE, finished_at=timezone.now(), row_count=sum(counts.values()),
                sha256=digest.hexdigest(), size=size, verification=verification,
            )
    except Exception as exc:
        AuditExport.objects.filter(pk=job.pk).update(status=ExportStatus.FAILED, finished_at=timezone.now(), error=type(exc).__name__[:500])
        job_path(job).with_suffix(f".{job.format}.partial").unlink(missing_ok=True)
        raise
    return AuditExport.objects.get(pk=job.pk)


def _slug_of(chain_key: int, slugs: dict) -> str:
    if not chain_key:
        return ""
    return slugs.get(chain_key) or Workspace.objects.filter(pk=chain_key).values_list("slug", flat=True).first() or ""
