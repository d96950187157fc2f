"""Metric history reads: keyset pages off the (run, key, step, timestamp) index."""

from experiments.models import Metric
from experiments.search import page_tokens

HISTORY_COLUMNS = ("key", "value", "is_nan", "timestamp", "step", "model_id", "id")
HISTORY_ORDER = ("step", "timestamp", "id")


def metric_history_rows(run, key: str):
    """Every point of one metric of one run, in (step, timestamp) order, as tuples."""
    return Metric.objects.filter(run=run, key=key).order_by(*HISTORY_ORDER).values_list(*HISTORY_COLUMNS)


def metric_history_page(run, key: str, *, max_results: int, page_token: str | None):
    """One page of history and the token of the next, in one query."""
    context = {"run": run.pk, "key": key}
    rows = metric_history_rows(run, key)
    if page_token:
        step, timestamp, last_id = page_tokens.decode("metric-history", page_token, context, 3)
        rows = rows.filter(page_tokens.after([page_tokens.SortKey(n) for n in HISTORY_ORDER], [step, timestamp, last_id]))
    page = list(rows[: max_results + 1])
    token = None
    if len(page) > max_results:
        page = page[:max_results]
        last = page[-1]
        token = page_tokens.encode("metric-history", [last[4], last[3], last[6]], context)
    return page, token


def metric_history_bulk_interval(runs, key: str, *, start_step=None, end_step=None, max_results: int):
    """Up to max_results points per run, sampled evenly over the steps in range (MLflow's bulk-interval)."""
    out = []
    for run in runs:
        steps_qs = Metric.objects.filter(run=run, key=key)
        if start_step is not None:
            steps_qs = steps_qs.filter(step__gte=start_step)
        if end_step is not None:
            steps_qs = steps_qs.filter(step__lte=end_step)
        steps = sorted(set(steps_qs.values_list("step", flat=True)))
        if len(steps) > max_results:
            chosen = _sample_steps(steps, max_results)
            steps_qs = steps_qs.filter(step__in=chosen)
        for row in steps_qs.order_by(*HISTORY_ORDER).values_list(*HISTORY_COLUMNS):
            out.append((run, row))
    return out


def _sample_steps(steps: list[int], count: int) -> list[int]:
    """Evenly spaced steps, always keeping the first and the last."""
    if count <= 1:
        return steps[-1:]
    stride = (len(steps) - 1) / (count - 1)
    return sorted({steps[round(i * stride)] for i in range(count)})
