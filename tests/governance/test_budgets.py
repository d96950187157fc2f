"""Query budgets: searches stay within a fixed number of queries whatever the number of grants
(1,000 experiments, 5,000 grants to users and teams), and return exactly the visible rows."""

import uuid

import pytest
from django.contrib.auth.models import Permission
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts import services as account_services
from accounts.models import Role
from experiments.models import Experiment, ExperimentGroupObjectPermission, ExperimentUserObjectPermission, Run

EXPERIMENTS = 1000
GRANTS = 5000
BUDGET = 8  # token, last-used stamp, workspace, the page, and its fixed companions (tags, params...)


def _permission(level: str):
    return Permission.objects.get(codename=f"{level}_experiment")


@pytest.fixture
def crowd(workspace, make_user):
    """1,000 experiments (every other one restricted) with a run each, and 5,000 grants: five
    principals (the caller or their team, three colleagues, another team) on every experiment, the caller's on the
    restricted ones only, so the visible set is known."""
    caller = make_user("carl", workspace, Role.MEMBER)
    colleagues = [make_user(f"col{i}", workspace, Role.MEMBER) for i in range(3)]
    teams = [account_services.team_create(actor=None, workspace=workspace, name=f"t{i}") for i in range(2)]
    account_services.team_member_add(actor=None, team=teams[0], user=caller)
    Experiment.objects.bulk_create(
        [
            Experiment(workspace=workspace, name=f"e{i:04d}", restricted=i % 2 == 1, creation_time=i, last_update_time=i)
            for i in range(EXPERIMENTS)
        ],
        batch_size=500,
    )
    experiments = list(Experiment.objects.filter(workspace=workspace, is_default=False).order_by("pk"))
    Run.objects.bulk_create(
        [Run(run_uuid=uuid.uuid4().hex, experiment=e, name=e.name, start_time=1) for e in experiments], batch_size=500
    )
    read, edit = _permission("read"), _permission("edit")
    user_rows, team_rows = [], []
    for i, experiment in enumerate(experiments):
        for colleague in colleagues:
            user_rows.append(ExperimentUserObjectPermission(user=colleague, content_object=experiment, permission=edit))
        team_rows.append(ExperimentGroupObjectPermission(group=teams[1].group, content_object=experiment, permission=read))
        # the caller: on restricted experiments below 600 directly, from 600 on through their team
        if i % 2 == 1 and i < 600:
            user_rows.append(ExperimentUserObjectPermission(user=caller, content_object=experiment, permission=read))
        else:
            team_rows.append(ExperimentGroupObjectPermission(group=teams[0].group, content_object=experiment, permission=read))
    ExperimentUserObjectPermission.objects.bulk_create(user_rows, batch_size=1000)
    ExperimentGroupObjectPermission.objects.bulk_create(team_rows, batch_size=1000)
    assert len(user_rows) + len(team_rows) == GRANTS
    return caller, experiments


def _queries(call):
    with CaptureQueriesContext(connection) as captured:
        response = call()
    assert response.status_code == 200, response.content
    return len(captured), response.json()


def test_search_budgets_do_not_grow_with_grants(crowd, wire):
    caller, experiments = crowd
    api = wire(caller)
    ids = [e.wire_id for e in experiments]

    def searches():
        exp_count, exp_body = _queries(lambda: api.post("experiments/search", {"max_results": 2000}))
        run_count, run_body = _queries(lambda: api.post("runs/search", {"experiment_ids": ids, "max_results": 2000}))
        return exp_count, run_count, exp_body, run_body

    searches()  # warm up: the token's last-use stamp is written once per window
    exp_count, run_count, exp_body, run_body = searches()
    # every experiment is visible: unrestricted ones by the floor, restricted ones by a grant
    assert len(exp_body["experiments"]) == EXPERIMENTS + 1  # and Default
    assert len(run_body["runs"]) == EXPERIMENTS
    assert exp_count <= BUDGET and run_count <= BUDGET, (exp_count, run_count)

    # take every grant of the caller away: fewer rows, same number of queries
    ExperimentUserObjectPermission.objects.filter(user=caller).delete()
    account_services.team_member_remove(actor=None, team=caller.groups.get().team, user=caller)
    exp_count_after, run_count_after, exp_body, run_body = searches()
    assert len(exp_body["experiments"]) == EXPERIMENTS // 2 + 1
    assert {r["info"]["run_name"] for r in run_body["runs"]} == {e.name for e in experiments if not e.restricted}
    assert (exp_count_after, run_count_after) == (exp_count, run_count)


def test_the_scope_is_one_statement_with_subqueries(crowd, ctx_for, workspace):
    from experiments.selectors import visible_experiments

    caller, _ = crowd
    ctx = ctx_for(caller, workspace)
    with CaptureQueriesContext(connection) as captured:
        count = visible_experiments(ctx).count()
    assert len(captured) == 1
    sql = captured[0]["sql"].lower()
    assert "experimentuserobjectpermission" in sql and "experimentgroupobjectpermission" in sql
    assert count == EXPERIMENTS + 1
