"""search_runs against the database: filters of each kind, order_by, paging, view types, scope."""

import pytest

from accounts.models import Role
from experiments.errors import MlflowError
from experiments.models import Experiment
from experiments.search.runs import search_runs

from .conftest import add_input, make_experiment, make_run, set_metric

pytestmark = pytest.mark.django_db


def names(runs):
    return [run.name for run in runs]


def search(ctx, experiment_ids, **kwargs):
    runs, token = search_runs(ctx, experiment_ids=[str(e) for e in experiment_ids], **kwargs)
    return runs, token


@pytest.fixture
def exp(workspace, alice):
    return make_experiment(workspace, "exp", created_by=alice)


@pytest.fixture
def runs(exp):
    """Five runs with a spread of metrics, params, tags and statuses (start_time a..e = 1..5)."""
    made = {
        "a": make_run(exp, name="a", start_time=1, metrics={"acc": 0.9, "loss": 0.1}, params={"lr": "0.01", "opt": "Adam"},
                      tags={"team": "vision", "note": "100% sure"}),
        "b": make_run(exp, name="b", start_time=2, metrics={"acc": 0.5, "loss": 0.7}, params={"lr": "0.1", "opt": "adam"},
                      tags={"team": "nlp"}, status="FAILED"),
        "c": make_run(exp, name="c", start_time=3, metrics={"acc": float("nan")}, params={"lr": "0.01"},
                      tags={"team": "Vision", "my key": "spaced"}, end_time=10),
        "d": make_run(exp, name="d", start_time=4, metrics={"acc": 0.7, "loss": 0.3}, params={"opt": "sgd"}, status="RUNNING"),
        "e": make_run(exp, name="e", start_time=5, metrics={"loss": -2.5e-3}, end_time=20, user_id="bob"),
    }
    add_input(made["a"], "iris", "d1", context="train")
    add_input(made["b"], "iris", "d2", context="eval")
    add_input(made["c"], "wine", "d3", context="training", extra_tags={"other": "train"})
    return made


def filtered(ctx, exp, filter_string, **kwargs):
    found, _ = search(ctx, [exp.pk], filter_string=filter_string, **kwargs)
    return sorted(names(found))


@pytest.mark.parametrize(
    "filter_string, expected",
    [
        ("", ["a", "b", "c", "d", "e"]),
        ("metrics.acc > 0.6", ["a", "d"]),
        ("metrics.acc >= 0.7", ["a", "d"]),
        ("metrics.acc < 0.7", ["b"]),  # NaN is not smaller than anything
        ("metrics.acc <= 0.7", ["b", "d"]),
        ("metrics.acc = 0.5", ["b"]),
        ("metrics.acc != 0.5", ["a", "c", "d"]),  # NaN differs; runs without acc do not match
        ("metrics.acc = 0", []),  # the stored placeholder of NaN never matches
        ("metrics.loss < -1e-3", ["e"]),
        ("metric.loss > 0.2 and metrics.acc > 0.6", ["d"]),
        ("params.lr = '0.01'", ["a", "c"]),
        ('parameters.lr = "0.1"', ["b"]),
        ("params.lr != '0.01'", ["b"]),
        ("params.opt LIKE 'a%'", ["b"]),  # LIKE is case-sensitive
        ("params.opt ILIKE 'a%'", ["a", "b"]),
        ("params.opt LIKE '_dam'", ["a", "b"]),
        ("params.opt IN ('sgd', 'Adam')", ["a", "d"]),
        ("params.opt NOT IN ('sgd', 'Adam')", ["b"]),
        ("params.lr IS NULL", ["d", "e"]),
        ("params.lr IS NOT NULL", ["a", "b", "c"]),
        ("tags.team = 'vision'", ["a"]),
        ("tags.team ILIKE 'VISION'", ["a", "c"]),
        ("tags.`my key` = 'spaced'", ["c"]),
        ('tags."my key" LIKE \'%ace%\'', ["c"]),
        ("tags.note LIKE '100\\% %'", ["a"]),  # backslash escapes the wildcard
        ("tags.note LIKE '100\\%'", []),
        ("tags.team IS NULL", ["d", "e"]),
        ("tags.mlflow.runName = 'b'", ["b"]),
        ("attributes.status = 'FAILED'", ["b"]),
        ("status != 'FINISHED'", ["b", "d"]),
        ("attr.status IN ('FAILED', 'RUNNING')", ["b", "d"]),
        ("run_name = 'c'", ["c"]),
        ("attributes.run_name LIKE '%'", ["a", "b", "c", "d", "e"]),
        ("`Run name` IN ('a', 'e')", ["a", "e"]),
        ("start_time >= 4", ["d", "e"]),
        ("created < 2", ["a"]),
        ("attributes.start_time > 1.5", ["b", "c", "d", "e"]),
        ("end_time > 15", ["e"]),
        ("end_time IS NULL", ["a", "b", "d"]),
        ("end_time != 10", ["e"]),
        ("user_id = 'bob'", ["e"]),
        ("datasets.name = 'iris'", ["a", "b"]),
        ("dataset.digest IN ('d2', 'd3')", ["b", "c"]),
        ("datasets.name LIKE 'w%'", ["c"]),
        ("datasets.context = 'train'", ["a"]),  # only the mlflow.data.context input tag counts
        ("datasets.context LIKE 'train%'", ["a", "c"]),
        ("datasets.context != 'train'", ["b", "c"]),
        ("datasets.name = 'iris' AND datasets.context = 'eval'", ["b"]),
        ("metrics.acc < 1e999", ["a", "b", "d"]),
        ("metrics.loss > -1e999 AND start_time < 1e999", ["a", "b", "d", "e"]),
        ("start_time > 99999999999999999999999", []),
        ("start_time < 99999999999999999999999", ["a", "b", "c", "d", "e"]),
    ],
)
def test_filters(ctx, exp, runs, filter_string, expected):
    assert filtered(ctx, exp, filter_string) == expected


def test_run_id_filters(ctx, exp, runs):
    a, b = runs["a"].run_uuid, runs["b"].run_uuid
    assert filtered(ctx, exp, f"attributes.run_id = '{a}'") == ["a"]
    assert filtered(ctx, exp, f"run_id IN ('{a}', '{b}')") == ["a", "b"]
    assert filtered(ctx, exp, f"run_id NOT IN ('{a}', '{b}')") == ["c", "d", "e"]


def test_filter_values_are_bound_not_interpolated(ctx, exp, runs):
    assert filtered(ctx, exp, "params.lr = '0.01'' OR ''1''=''1'") == []
    assert filtered(ctx, exp, "tags.`x'; DROP TABLE experiments_run; --` = 'y'") == []
    assert len(filtered(ctx, exp, "")) == 5


@pytest.mark.parametrize(
    "filter_string, message",
    [
        ("metrics.acc > 0.5 OR params.lr = '1'", "OR is not supported"),
        ("artifact_uri = 'x'", "'artifact_uri' is not supported"),
        ("metrics.acc LIKE '1'", "invalid comparator 'LIKE' for metrics.acc"),
        ("params.lr > '1'", "invalid comparator '>' for params.lr"),
        ("params.lr = 1", "expected a quoted string value for params.lr"),
        ("start_time = 'now'", "expected a numeric value for start_time"),
        ("datasets.source = 'x'", "invalid dataset key 'source'"),
        ("lifecycle_stage = 'active'", "invalid attribute key 'lifecycle_stage'"),
    ],
)
def test_bad_filters_are_invalid(ctx, exp, runs, filter_string, message):
    with pytest.raises(MlflowError) as caught:
        search(ctx, [exp.pk], filter_string=filter_string)
    assert caught.value.error_code == "INVALID_PARAMETER_VALUE"
    assert caught.value.message.startswith("Invalid filter")
    assert message in caught.value.message


def test_default_order_is_start_time_desc_then_run_id(ctx, exp, runs):
    tie = make_run(exp, name="tie", start_time=5)
    found, _ = search(ctx, [exp.pk])
    assert names(found)[:2] == sorted(["e", "tie"], key=lambda n: (runs["e"] if n == "e" else tie).run_uuid)
    assert names(found)[2:] == ["d", "c", "b", "a"]


def test_order_by_metric_puts_nan_then_missing_last_in_both_directions(ctx, exp, runs):
    found, _ = search(ctx, [exp.pk], order_by=["metrics.acc DESC"])
    assert names(found) == ["a", "d", "b", "c", "e"]
    found, _ = search(ctx, [exp.pk], order_by=["metrics.acc ASC"])
    assert names(found) == ["b", "d", "a", "c", "e"]
    found, _ = search(ctx, [exp.pk], order_by=["metrics.loss"])
    assert names(found) == ["e", "a", "d", "b", "c"]


def test_order_by_params_tags_and_attributes(ctx, exp, runs):
    found, _ = search(ctx, [exp.pk], order_by=["params.lr DESC", "start_time ASC"])
    assert names(found) == ["b", "a", "c", "d", "e"]  # missing lr last, ties by start_time ASC
    ascending, _ = search(ctx, [exp.pk], order_by=["tags.team ASC"])
    descending, _ = search(ctx, [exp.pk], order_by=["tags.team DESC"])
    # the order of "nlp", "vision" and "Vision" is the database collation's; missing tags come last
    assert sorted(names(ascending)[:3]) == ["a", "b", "c"]
    assert names(descending)[:3] == names(ascending)[:3][::-1]
    assert names(ascending)[3:] == names(descending)[3:] == ["e", "d"]  # then start_time DESC
    found, _ = search(ctx, [exp.pk], order_by=["attributes.start_time ASC"])
    assert names(found) == ["a", "b", "c", "d", "e"]
    found, _ = search(ctx, [exp.pk], order_by=["end_time DESC"])
    assert names(found) == ["e", "c", "d", "b", "a"]  # runs without end_time last
    found, _ = search(ctx, [exp.pk], order_by=["run_name DESC"])
    assert names(found) == ["e", "d", "c", "b", "a"]
    found, _ = search(ctx, [exp.pk], order_by=["tags.`my key` DESC", "created ASC"])
    assert names(found) == ["c", "a", "b", "d", "e"]


@pytest.mark.parametrize(
    "order_by, message",
    [
        (["metrics.acc DESC", "metrics.acc"], "duplicate"),
        (["foo"], "invalid attribute key 'foo'"),
        (["datasets.name"], "cannot order by datasets"),
        (["metrics.acc UP"], "expected ASC, DESC"),
    ],
)
def test_bad_order_by(ctx, exp, runs, order_by, message):
    with pytest.raises(MlflowError) as caught:
        search(ctx, [exp.pk], order_by=order_by)
    assert caught.value.error_code == "INVALID_PARAMETER_VALUE"
    assert message in caught.value.message


@pytest.mark.parametrize(
    "order_by",
    [[], ["metrics.score DESC"], ["metrics.score ASC", "params.group DESC"], ["tags.bucket", "end_time ASC"], ["start_time ASC"]],
)
def test_keyset_paging_visits_every_run_once_in_order(ctx, exp, order_by):
    for i in range(23):
        metrics = {} if i % 5 == 0 else {"score": float("nan") if i % 7 == 0 else float(i % 4)}
        params = {"group": str(i % 3)} if i % 2 else {}
        tags = {"bucket": "x" if i % 3 else "y"} if i % 4 else {}
        make_run(exp, name=f"r{i:02d}", start_time=100 + i % 6, end_time=(i % 5) or None, metrics=metrics, params=params, tags=tags)
    everything, token = search(ctx, [exp.pk], order_by=order_by, max_results=1000)
    assert token is None and len(everything) == 23
    pages, token = [], None
    while True:
        page, token = search(ctx, [exp.pk], order_by=order_by, max_results=4, page_token=token)
        pages.append(page)
        if token is None:
            break
    walked = [run.run_uuid for page in pages for run in page]
    assert walked == [run.run_uuid for run in everything]
    assert len(set(walked)) == 23
    assert [len(p) for p in pages] == [4, 4, 4, 4, 4, 3]


def test_keyset_paging_does_not_shift_when_rows_are_added(ctx, exp):
    for i in range(6):
        make_run(exp, name=f"r{i}", start_time=10 + i)
    first, token = search(ctx, [exp.pk], max_results=3)
    assert names(first) == ["r5", "r4", "r3"]
    make_run(exp, name="newest", start_time=99)
    second, token = search(ctx, [exp.pk], max_results=3, page_token=token)
    assert names(second) == ["r2", "r1", "r0"] and token is None


def test_page_token_only_continues_its_own_query(ctx, exp, runs):
    _, token = search(ctx, [exp.pk], max_results=2)
    assert token
    for other in (
        {"filter_string": "metrics.acc > 0"},
        {"order_by": ["metrics.acc DESC"]},
        {"run_view_type": "ALL"},
    ):
        with pytest.raises(MlflowError, match="Invalid page token"):
            search(ctx, [exp.pk], max_results=2, page_token=token, **other)
    with pytest.raises(MlflowError, match="Invalid page token"):
        search(ctx, [exp.pk], max_results=2, page_token=token[:-2] + ("AA" if token[-2:] != "AA" else "BB"))
    with pytest.raises(MlflowError, match="Invalid page token"):
        search(ctx, [exp.pk], page_token="not-a-token")


def test_view_types(ctx, exp):
    make_run(exp, name="live")
    make_run(exp, name="gone", lifecycle_stage="deleted")
    assert names(search(ctx, [exp.pk])[0]) == ["live"]
    assert names(search(ctx, [exp.pk], run_view_type="ACTIVE_ONLY")[0]) == ["live"]
    assert names(search(ctx, [exp.pk], run_view_type="DELETED_ONLY")[0]) == ["gone"]
    assert sorted(names(search(ctx, [exp.pk], run_view_type="ALL")[0])) == ["gone", "live"]
    with pytest.raises(MlflowError, match="Invalid view type"):
        search(ctx, [exp.pk], run_view_type="SOME")


@pytest.mark.parametrize("bad", [0, -1, 50001, "x", True])
def test_max_results_bounds(ctx, exp, bad):
    with pytest.raises(MlflowError) as caught:
        search(ctx, [exp.pk], max_results=bad)
    assert caught.value.error_code == "INVALID_PARAMETER_VALUE"


def test_max_results_limit_is_accepted(ctx, exp):
    make_run(exp, name="only")
    assert names(search(ctx, [exp.pk], max_results=50000)[0]) == ["only"]


def test_several_experiments_and_the_default_experiment(ctx, workspace, alice, exp):
    other = make_experiment(workspace, "other", created_by=alice)
    default = Experiment.objects.get(workspace=workspace, is_default=True)
    make_run(exp, name="in-exp", start_time=3)
    make_run(other, name="in-other", start_time=2)
    make_run(default, name="in-default", start_time=1)
    assert names(search_runs(ctx, experiment_ids=[str(exp.pk), str(other.pk)])[0]) == ["in-exp", "in-other"]
    assert names(search_runs(ctx, experiment_ids=["0"])[0]) == ["in-default"]
    # the Default experiment's primary key is not its wire id
    assert names(search_runs(ctx, experiment_ids=[str(default.pk)])[0]) == []
    assert names(search_runs(ctx, experiment_ids=["0", str(exp.pk)])[0]) == ["in-exp", "in-default"]
    assert search_runs(ctx, experiment_ids=[]) == ([], None)
    assert search_runs(ctx, experiment_ids=["987654321", str(2**70)]) == ([], None)
    with pytest.raises(MlflowError) as caught:
        search_runs(ctx, experiment_ids=["abc"])
    assert caught.value.error_code == "INVALID_PARAMETER_VALUE"


def test_other_workspace_runs_never_appear(ctx, exp, other_workspace, make_user, ctx_for):
    make_run(exp, name="ours")
    outsider = make_user("olga", other_workspace, Role.ADMIN)
    foreign = make_experiment(other_workspace, "foreign", created_by=outsider)
    make_run(foreign, name="theirs", start_time=2)
    make_run(Experiment.objects.get(workspace=other_workspace, is_default=True), name="their-default", start_time=1)
    # our context asking for their experiment id (and "0", which is ours) finds only ours
    assert names(search_runs(ctx, experiment_ids=[str(foreign.pk)])[0]) == []
    assert names(search_runs(ctx, experiment_ids=["0", str(foreign.pk), str(exp.pk)])[0]) == ["ours"]
    their_ctx = ctx_for(outsider, other_workspace)
    assert names(search_runs(their_ctx, experiment_ids=[str(exp.pk)])[0]) == []
    assert names(search_runs(their_ctx, experiment_ids=[str(foreign.pk), "0"])[0]) == ["theirs", "their-default"]


def test_restricted_experiment_is_invisible_to_other_members(workspace, alice, make_user, ctx_for):
    secret = make_experiment(workspace, "secret", created_by=alice, restricted=True)
    make_run(secret, name="hidden")
    bob = make_user("bob", workspace, Role.MEMBER)
    boss = make_user("boss", workspace, Role.ADMIN)
    assert names(search_runs(ctx_for(alice, workspace), experiment_ids=[str(secret.pk)])[0]) == ["hidden"]
    assert names(search_runs(ctx_for(bob, workspace), experiment_ids=[str(secret.pk)])[0]) == []
    assert names(search_runs(ctx_for(boss, workspace), experiment_ids=[str(secret.pk)])[0]) == ["hidden"]


def test_a_search_is_one_query(ctx, exp, runs, django_assert_num_queries):
    set_metric(runs["a"], "acc", 0.95, step=1, timestamp=2)
    with django_assert_num_queries(1):
        found, token = search(
            ctx,
            [exp.pk, "0"],
            filter_string="metrics.acc != 0.5 AND params.lr IS NOT NULL AND tags.team ILIKE 'v%' "
            "AND datasets.context LIKE 'tr%' AND status IN ('FINISHED') AND start_time > 0",
            order_by=["metrics.acc DESC", "params.opt", "tags.team DESC", "end_time"],
            max_results=1,
        )
        assert [run.experiment.name for run in found] == ["exp"]  # select_related: no extra query
    assert names(found) == ["a"] and token is not None
    with django_assert_num_queries(1):
        page, token = search(
            ctx,
            [exp.pk, "0"],
            filter_string="metrics.acc != 0.5 AND params.lr IS NOT NULL AND tags.team ILIKE 'v%' "
            "AND datasets.context LIKE 'tr%' AND status IN ('FINISHED') AND start_time > 0",
            order_by=["metrics.acc DESC", "params.opt", "tags.team DESC", "end_time"],
            max_results=1,
            page_token=token,
        )
    assert names(page) == ["c"] and token is None
