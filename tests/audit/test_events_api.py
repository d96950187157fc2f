"""The audit API: filters, cursor pages, one event, scoping (404/403) and chain verification."""

import pytest
from django.db import connection

from audit.models import AuditEvent
from audit.services import record


def ids(response):
    assert response.status_code == 200, response.content
    return [row["id"] for row in response.json()["events"]]


def test_an_auditor_lists_only_the_workspaces_it_audits_newest_first(rest, auditor, log, workspace):
    events = ids(rest(auditor).get("audit/events"))
    expected = list(AuditEvent.objects.filter(workspace=workspace).order_by("-id").values_list("id", flat=True))
    assert events == expected and len(events) >= 8  # the grant, the log; not globex's, not the sign-in of no workspace


def test_a_superuser_reads_every_chain(rest, root, log):
    assert len(ids(rest(root).get("audit/events"))) == AuditEvent.objects.count()


@pytest.mark.parametrize(
    "params, count",
    [
        ({"action": "experiment.created"}, 5),
        ({"action": "experiment.*"}, 6),
        ({"outcome": "denied"}, 1),
        ({"actor": "mia"}, 7),
        ({"target_type": "experiment", "target_id": "3"}, 2),
        ({"workspace": "acme", "action": "grant.*"}, 1),
        ({"since": "2000-01-01T00:00:00Z", "until": "2001-01-01T00:00:00Z"}, 0),
    ],
)
def test_filters(rest, auditor, log, params, count):
    assert len(ids(rest(auditor).get("audit/events", **params))) == count


@pytest.mark.parametrize("actor", ["²", "١٢"])
def test_an_actor_of_non_ascii_digits_is_a_name_not_an_id(rest, auditor, log, actor):
    assert ids(rest(auditor).get("audit/events", actor=actor)) == []


def test_actor_by_id_and_time_range(rest, auditor, log, member):
    assert len(ids(rest(auditor).get("audit/events", actor=str(member.pk)))) == 7
    first = AuditEvent.objects.filter(workspace__slug="acme").order_by("id")[2]
    since = first.time.isoformat()
    assert ids(rest(auditor).get("audit/events", since=since))[-1] == first.pk


def test_bad_filters_are_clear_400s(rest, auditor, log):
    for params in ({"since": "yesterday"}, {"outcome": "maybe"}, {"action": "DROP TABLE"}, {"limit": 0},
                   {"since": "2030-01-01T00:00:00Z", "until": "2020-01-01T00:00:00Z"}, {"cursor": "forged"}):
        response = rest(auditor).get("audit/events", **params)
        assert response.status_code == 400, (params, response.content)


def test_cursor_pages_cover_every_event_once_and_are_bound_to_their_query(rest, auditor, log):
    api = rest(auditor)
    seen, cursor = [], None
    while True:
        params = {"limit": 3, **({"cursor": cursor} if cursor else {})}
        body = api.get("audit/events", **params).json()
        seen += [row["id"] for row in body["events"]]
        cursor = body["next_cursor"]
        if not cursor:
            break
    assert seen == ids(api.get("audit/events")) and len(seen) == AuditEvent.objects.filter(workspace__slug="acme").count()
    first = api.get("audit/events", limit=3).json()["next_cursor"]
    assert api.get("audit/events", limit=3, cursor=first, action="experiment.*").status_code == 400


def test_the_list_is_one_query_for_the_scope_and_one_for_the_page(rest, auditor, log, django_assert_max_num_queries):
    api = rest(auditor)
    with django_assert_max_num_queries(6):  # token, last-used, scope, page (+ savepoints)
        assert api.get("audit/events", limit=2).status_code == 200


def test_workspace_visibility_404_and_403(rest, auditor, member, make_user, log):
    assert rest(auditor).get("audit/events", workspace="globex").status_code == 404  # exists, invisible
    assert rest(auditor).get("audit/events", workspace="nowhere").status_code == 404  # missing: the same answer
    assert rest(member).get("audit/events", workspace="acme").status_code == 403  # a member, not an auditor
    assert rest(member).get("audit/events", workspace="globex").status_code == 404
    assert rest(member).get("audit/events").status_code == 403
    assert rest(make_user("nobody")).get("audit/events").status_code == 403
    assert rest(member).get("audit/verify").status_code == 403


def test_unauthenticated_callers_are_refused(client):
    assert client.get("/api/v1/audit/events").status_code == 401


def test_an_event_with_its_changes_and_out_of_scope_ones_are_404(rest, auditor, log):
    deleted = AuditEvent.objects.get(action="experiment.deleted")
    body = rest(auditor).get(f"audit/events/{deleted.pk}").json()
    assert body["changes"]["after"]["lifecycle"] == "deleted" and body["seq"] == deleted.seq and body["hash"] == deleted.hash
    other = AuditEvent.objects.filter(workspace__slug="globex").first()
    assert rest(auditor).get(f"audit/events/{other.pk}").status_code == 404
    assert rest(auditor).get("audit/events/999999999").status_code == 404


def test_verify_reports_each_chain_in_scope(rest, auditor, root, log, workspace):
    body = rest(auditor).get("audit/verify").json()
    acme_events = AuditEvent.objects.filter(workspace=workspace).count()
    assert body["ok"] and [(c["workspace"], c["checked"]) for c in body["chains"]] == [("acme", acme_events)]
    assert rest(auditor).get("audit/verify", workspace="globex").status_code == 404
    assert len(rest(root).get("audit/verify").json()["chains"]) == 3  # acme, globex, and the chain of no workspace


@pytest.mark.postgres_only
def test_verify_names_the_first_broken_link(rest, auditor, log, workspace):
    victim = AuditEvent.objects.filter(workspace=workspace).order_by("seq")[3]
    with connection.cursor() as cursor:  # a forger with the maintenance door open removes one event
        cursor.execute("DELETE FROM audit_auditevent WHERE id = %s", [victim.pk])
    body = rest(auditor).get("audit/verify", workspace="acme").json()
    [chain] = body["chains"]
    assert not body["ok"] and chain["first_broken_seq"] == victim.seq + 1 and "gap" in chain["reason"]


def test_bound_tokens_narrow_the_scope(rest, root, log, other_workspace):
    api = rest(root, workspace=other_workspace)
    assert {row["workspace_slug"] for row in api.get("audit/events").json()["events"]} == {"globex"}
    assert api.get("audit/events", workspace="acme").status_code == 404


def test_unsealed_events_are_listed_too(rest, auditor, log, workspace):
    event = record("run.created", workspace=workspace, target_type="run", target_id="r")
    assert ids(rest(auditor).get("audit/events", action="run.created")) == [event.pk]
