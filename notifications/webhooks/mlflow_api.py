"""MLflow's webhook API (``/api/2.0/mlflow/webhooks``), scoped to the request's workspace.

Shapes follow MLflow 3.x (``webhooks.proto``): enums travel as their names (``MODEL_VERSION``,
``CREATED``, ``ACTIVE``), the secret is accepted and never returned, list pages with
``max_results`` (1-1000, default 100) and an opaque ``page_token``. Warden's extra events are
listed under ``warden_events`` because the mlflow client rejects entities it does not know;
``events`` and ``warden_events`` are both accepted on create and update. The test call answers
whether the receiver accepted the example event and its status code, never its response body.
"""

from django.urls import path

from experiments.errors import invalid
from experiments.mlflow_api.protocol import endpoint
from experiments.search.page_tokens import SortKey, paginate
from notifications import events as catalogue
from notifications.models import Webhook
from notifications.webhooks import services

LIST_KEYS = [SortKey("creation_timestamp", ascending=False), SortKey("id", ascending=False)]


def _event_json(name: str) -> dict:
    entity, _, action = name.partition(".")
    return {"entity": entity.upper(), "action": action.upper()}


def webhook_json(hook: Webhook) -> dict:
    body = {
        "webhook_id": hook.webhook_id,
        "name": hook.name,
        "url": hook.url,
        "events": [_event_json(e) for e in hook.events if e in catalogue.MLFLOW_EVENT_NAMES],
        "status": hook.status,
        "creation_timestamp": hook.creation_timestamp,
        "last_updated_timestamp": hook.last_updated_timestamp,
    }
    if hook.description:
        body["description"] = hook.description
    extra = [_event_json(e) for e in hook.events if e not in catalogue.MLFLOW_EVENT_NAMES]
    if extra:
        body["warden_events"] = extra
    return body


def _event_items(params, *, required: bool):
    items = []
    for name in ("events", "warden_events"):
        value = params.raw(name)
        if value is not None and not isinstance(value, list):
            raise invalid(f"Invalid value for parameter '{name}': must be a list.")
        items += value or []
    if not items and not required:
        return None
    return items


@endpoint(["GET", "POST"])
def webhooks(request, ctx, params):
    if request.method == "POST":
        services.require_admin(ctx, write=True)
        hook = services.webhook_create(
            actor=ctx.user, workspace=ctx.workspace,
            name=params.str("name", required=True), url=params.str("url", required=True),
            events=_event_items(params, required=True), description=params.raw("description"),
            secret=params.raw("secret"), status=params.str("status"),
        )
        return {"webhook": webhook_json(hook)}
    services.require_admin(ctx, write=False)
    max_results = params.int("max_results", default=100, minimum=1, maximum=1000)
    queryset = Webhook.objects.filter(workspace=ctx.workspace, deleted_timestamp__isnull=True)
    rows, token = paginate(
        queryset, LIST_KEYS, entity="webhooks", context={"workspace": ctx.workspace.pk},
        max_results=max_results, page_token=params.str("page_token"),
    )
    body = {"webhooks": [webhook_json(h) for h in rows]}
    if token:
        body["next_page_token"] = token
    return body


@endpoint(["GET", "PATCH", "DELETE"])
def webhook(request, ctx, params, webhook_id):
    if request.method == "GET":
        return {"webhook": webhook_json(services.access_webhook(ctx, webhook_id, write=False))}
    hook = services.access_webhook(ctx, webhook_id, write=True)
    if request.method == "DELETE":
        services.webhook_delete(actor=ctx.user, webhook=hook)
        return {}
    hook = services.webhook_update(
        actor=ctx.user, webhook=hook, name=params.str("name"), description=params.raw("description"),
        url=params.str("url"), events=_event_items(params, required=False), secret=params.raw("secret"),
        status=params.str("status"),
    )
    return {"webhook": webhook_json(hook)}


@endpoint(["POST"])
def test_webhook(request, ctx, params, webhook_id):
    hook = services.access_webhook(ctx, webhook_id, write=True)
    event = params.raw("event")
    event_type = services.parse_event(event) if event is not None else None
    attempt = services.webhook_test(actor=ctx.user, webhook=hook, event_type=event_type)
    result = {"success": bool(attempt and attempt.succeeded)}
    if attempt and attempt.status_code is not None:
        result["response_status"] = attempt.status_code
    if attempt and not attempt.succeeded:
        result["error_message"] = f"Webhook test failed: {attempt.error or 'HTTPError'}"
    return {"result": result}


urlpatterns = [
    path("webhooks", webhooks),
    path("webhooks/<str:webhook_id>", webhook),
    path("webhooks/<str:webhook_id>/test", test_webhook),
]
