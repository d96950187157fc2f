"""Sealing: give committed events their place in the workspace's chain.

Writers only INSERT; a sealer locks the chain head (one row per workspace), takes the unsealed
events in id order, and writes each one's ``seq``, ``prev_hash`` and ``hash`` once. Events that
commit late are simply sealed later, with a later sequence number.
"""

from django.db import connection, transaction

from audit.hashing import event_hash
from audit.models import AuditChain, AuditEvent

BATCH = 2000


def chain_filter(chain_key: int) -> dict:
    return {"workspace_id": chain_key} if chain_key else {"workspace_id__isnull": True}


def _locked_head(chain_key: int) -> AuditChain:
    AuditChain.objects.bulk_create([AuditChain(chain_key=chain_key)], ignore_conflicts=True)
    return AuditChain.objects.select_for_update().get(chain_key=chain_key)


def _write_seals(rows: list[tuple[int, int, str, str]]) -> None:
    """One UPDATE for a batch; the only UPDATE the append-only trigger lets through."""
    table = AuditEvent._meta.db_table
    values = ", ".join(["(CAST(%s AS bigint), CAST(%s AS bigint), CAST(%s AS varchar(64)), CAST(%s AS varchar(64)))"] * len(rows))
    params = [item for row in rows for item in row]
    with connection.cursor() as cursor:
        cursor.execute(  # a CTE with a column list: the form both PostgreSQL and SQLite accept
            f"WITH v(id, seq, prev_hash, hash) AS (VALUES {values}) "
            f"UPDATE {table} SET seq = v.seq, prev_hash = v.prev_hash, hash = v.hash "
            f"FROM v WHERE {table}.id = v.id AND {table}.hash = ''",
            params,
        )


def seal_chain(chain_key: int) -> int:
    """Seal every unsealed event of one chain; returns how many were sealed."""
    sealed = 0
    while True:
        with transaction.atomic():
            head = _locked_head(chain_key)
            pending = list(AuditEvent.objects.filter(seq__isnull=True, **chain_filter(chain_key)).order_by("id")[:BATCH])
            if not pending:
                return sealed
            rows = []
            seq, prev = head.last_seq, head.last_hash
            for event in pending:
                seq += 1
                digest = event_hash(event, seq, prev)
                rows.append((event.pk, seq, prev, digest))
                prev = digest
            _write_seals(rows)
            AuditChain.objects.filter(pk=head.pk).update(last_seq=seq, last_hash=prev)
            sealed += len(rows)
        if len(pending) < BATCH:
            return sealed


def unsealed_chain_keys() -> list[int]:
    keys = AuditEvent.objects.filter(seq__isnull=True).values_list("workspace_id", flat=True).distinct()
    return sorted({key or 0 for key in keys})


def seal_all() -> int:
    return sum(seal_chain(key) for key in unsealed_chain_keys())
