"""Chain verification: recompute every sealed event's hash and check the links between them."""

from dataclasses import asdict, dataclass

from audit.hashing import event_hash
from audit.models import AuditChain, AuditEvent
from audit.sealing import chain_filter


@dataclass(frozen=True)
class ChainReport:
    chain_key: int
    ok: bool
    checked: int
    unsealed: int
    first_broken_seq: int | None = None
    first_broken_id: int | None = None
    reason: str = ""

    def as_dict(self) -> dict:
        return asdict(self)


def verify_chain(chain_key: int) -> ChainReport:
    """Walk the chain from its anchor (the start, or where the retention purge left it)."""
    head = AuditChain.objects.filter(chain_key=chain_key).first()
    expected_seq = (head.anchor_seq if head else 0) + 1
    prev = head.anchor_hash if head else ""
    events = AuditEvent.objects.filter(seq__isnull=False, **chain_filter(chain_key)).order_by("seq")
    unsealed = AuditEvent.objects.filter(seq__isnull=True, **chain_filter(chain_key)).count()
    checked = 0
    for event in events.iterator(chunk_size=2000):
        problem = ""
        if event.seq != expected_seq:
            problem = f"sequence gap: expected {expected_seq}, found {event.seq}"
        elif event.prev_hash != prev:
            problem = "previous-hash link does not match the preceding event"
        elif event.hash != event_hash(event, event.seq, event.prev_hash):
            problem = "hash does not match the event's content"
        if problem:
            return ChainReport(chain_key, False, checked, unsealed, event.seq, event.pk, problem)
        checked += 1
        expected_seq += 1
        prev = event.hash
    if head is not None and checked and (head.last_seq != expected_seq - 1 or head.last_hash != prev):
        return ChainReport(chain_key, False, checked, unsealed, expected_seq, None, "chain head does not match the last event (events removed from the end)")
    return ChainReport(chain_key, True, checked, unsealed)


def chain_keys(workspace_id: int | None = None) -> list[int]:
    if workspace_id is not None:
        return [workspace_id]
    keys = set(AuditChain.objects.values_list("chain_key", flat=True))
    keys.update(key or 0 for key in AuditEvent.objects.values_list("workspace_id", flat=True).distinct())
    return sorted(keys)
