"""Request options shared by the searches: page size, view type and the experiment scope."""

from django.db.models import Q

from experiments.access import parse_experiment_id
from experiments.errors import MlflowError, invalid
from experiments.models import LifecycleStage
from experiments.selectors import visible_experiments

MAX_RESULTS_LIMIT = 50000
VIEW_TYPES = {"ACTIVE_ONLY": 1, "DELETED_ONLY": 2, "ALL": 3}


def check_max_results(value, *, default: int, limit: int = MAX_RESULTS_LIMIT) -> int:
    if value is None:
        return default
    if isinstance(value, str) and value.strip().isascii() and value.strip().isdigit():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise invalid(f"Invalid value for parameter 'max_results' supplied: {value!r}. It must be a positive integer.")
    if value > limit:
        raise invalid(
            f"Invalid value for request parameter max_results. It must be at most {limit}, but got value {value}"
        )
    return value


def view_type_name(view_type) -> str:
    """ACTIVE_ONLY, DELETED_ONLY or ALL; also accepts the proto numbers 1, 2, 3 and any case."""
    if view_type is None or view_type == "":
        return "ACTIVE_ONLY"
    if isinstance(view_type, int) and not isinstance(view_type, bool):
        for name, number in VIEW_TYPES.items():
            if number == view_type:
                return name
    if isinstance(view_type, str) and view_type.strip().upper() in VIEW_TYPES:
        return view_type.strip().upper()
    raise invalid(f"Invalid view type {view_type!r}: expected one of ACTIVE_ONLY, DELETED_ONLY, ALL.")


def lifecycle_q(view_type, field: str = "lifecycle_stage") -> Q:
    name = view_type_name(view_type)
    if name == "ACTIVE_ONLY":
        return Q(**{field: LifecycleStage.ACTIVE})
    if name == "DELETED_ONLY":
        return Q(**{field: LifecycleStage.DELETED})
    return Q()


def wire_ids(experiment_ids) -> list:
    """The experiment ids of a request as a list (a lone id is accepted too)."""
    if experiment_ids is None:
        return []
    if isinstance(experiment_ids, (str, int)):
        return [experiment_ids]
    return list(experiment_ids)


def requested_experiments(ctx, experiment_ids):
    """The visible experiments among wire ids, as a subquery of primary keys.

    "0" is the workspace's Default experiment; unknown, foreign or invisible ids match nothing.
    Returns None when no id can match, so callers can skip the query.
    """
    pks, default = set(), False
    for raw in wire_ids(experiment_ids):
        if isinstance(raw, bool) or not isinstance(raw, (str, int)):
            raise invalid(f"Invalid experiment ID: {raw!r}. Experiment IDs are decimal integers.")
        try:
            pk = parse_experiment_id(raw)
        except MlflowError as exc:
            if exc.error_code == "RESOURCE_DOES_NOT_EXIST":  # too large to exist
                continue
            raise
        if pk is None:
            default = True
        else:
            pks.add(pk)
    if not pks and not default:
        return None
    wanted = Q(pk__in=sorted(pks), is_default=False) if pks else Q(pk__in=[])
    if default:
        wanted |= Q(is_default=True)
    return visible_experiments(ctx).filter(wanted).values("pk")
