"""search_logged_models against the database: filters, MLflow 3 order_by dicts, paging, scope."""

import pytest

from accounts.models import Role
from experiments.errors import MlflowError
from experiments.search.logged_models import search_logged_models

from .conftest import make_experiment, make_logged_model, make_run, set_metric

pytestmark = pytest.mark.django_db


def names(models):
    return [m.name for m in models]


@pytest.fixture
def exp(workspace, alice):
    return make_experiment(workspace, "models-exp", created_by=alice)


@pytest.fixture
def models(exp):
    run = make_run(exp, name="trainer")
    made = {
        "m1": make_logged_model(exp, name="m1", source_run=run, model_type="sklearn", creation_timestamp=10,
                                params={"alpha": "0.5"}, tags={"stage": "dev"}),
        "m2": make_logged_model(exp, name="m2", model_type="torch", status="LOGGED_MODEL_PENDING", creation_timestamp=20,
                                last_updated_timestamp=500, params={"alpha": "1.0"}, tags={"stage": "Prod"}),
        "m3": make_logged_model(exp, name="m3", source_run=run, creation_timestamp=30, status="LOGGED_MODEL_UPLOAD_FAILED"),
        "gone": make_logged_model(exp, name="gone", creation_timestamp=40, lifecycle_stage="deleted"),
    }
    set_metric(run, "acc", 0.2, step=0, timestamp=1, model_id=made["m1"].model_id)
    set_metric(run, "acc", 0.9, step=1, timestamp=2, model_id=made["m1"].model_id)  # newest point of m1
    set_metric(run, "acc", 0.5, step=0, timestamp=1, model_id=made["m3"].model_id)
    return made


def search(ctx, exp, **kwargs):
    return search_logged_models(ctx, experiment_ids=[str(exp.pk)], **kwargs)


def filtered(ctx, exp, filter_string):
    return sorted(names(search(ctx, exp, filter_string=filter_string)[0]))


@pytest.mark.parametrize(
    "filter_string, expected",
    [
        ("", ["m1", "m2", "m3"]),
        ("name = 'm2'", ["m2"]),
        ("name LIKE 'm%'", ["m1", "m2", "m3"]),
        ("attributes.name IN ('m1', 'm3')", ["m1", "m3"]),
        ("model_type = 'torch'", ["m2"]),
        ("status = 'READY'", ["m1"]),
        ("status IN ('PENDING', 'FAILED')", ["m2", "m3"]),
        ("status = 'LOGGED_MODEL_PENDING'", ["m2"]),
        ("creation_timestamp >= 20", ["m2", "m3"]),
        ("creation_time < 20", ["m1"]),
        ("last_updated_timestamp > 100", ["m2"]),
        ("source_run_id IS NULL", ["m2"]),
        ("params.alpha = '0.5'", ["m1"]),
        ("params.alpha IS NULL", ["m3"]),
        ("tags.stage ILIKE 'prod'", ["m2"]),
        ("tags.stage != 'dev'", ["m2"]),
        ("metrics.acc > 0.8", ["m1"]),  # any point matches, as MLflow
        ("metrics.acc < 0.3", ["m1"]),
        ("metrics.acc >= 0.5 AND params.alpha = '0.5'", ["m1"]),
    ],
)
def test_filters(ctx, exp, models, filter_string, expected):
    assert filtered(ctx, exp, filter_string) == expected


def test_source_run_and_model_id(ctx, exp, models):
    run_id = models["m1"].source_run.run_uuid
    assert filtered(ctx, exp, f"source_run_id = '{run_id}'") == ["m1", "m3"]
    assert filtered(ctx, exp, f"model_id = '{models['m2'].model_id}'") == ["m2"]


@pytest.mark.parametrize(
    "filter_string, message",
    [
        ("metrics.acc LIKE 'x'", "invalid comparator 'LIKE' for metrics.acc"),
        ("creation_timestamp = 'yesterday'", "expected a numeric value"),
        ("datasets.name = 'x'", "datasets cannot be searched"),
        ("flavor = 'x'", "invalid attribute key 'flavor'"),
    ],
)
def test_bad_filters(ctx, exp, models, filter_string, message):
    with pytest.raises(MlflowError) as caught:
        search(ctx, exp, filter_string=filter_string)
    assert caught.value.error_code == "INVALID_PARAMETER_VALUE"
    assert message in caught.value.message


def test_default_order_and_order_by(ctx, exp, models):
    assert names(search(ctx, exp)[0]) == ["m3", "m2", "m1"]
    assert names(search(ctx, exp, order_by=[{"field_name": "creation_timestamp", "ascending": True}])[0]) == ["m1", "m2", "m3"]
    assert names(search(ctx, exp, order_by=[{"field_name": "name"}])[0]) == ["m1", "m2", "m3"]
    assert names(search(ctx, exp, order_by=[{"field_name": "last_updated_timestamp", "ascending": False}])[0]) == ["m2", "m3", "m1"]
    # newest metric point of each model; models without the metric last either way
    assert names(search(ctx, exp, order_by=[{"field_name": "metrics.acc", "ascending": False}])[0]) == ["m1", "m3", "m2"]
    assert names(search(ctx, exp, order_by=[{"field_name": "metrics.acc", "ascending": True}])[0]) == ["m3", "m1", "m2"]
    # source_run_id: models without a source run last
    assert names(search(ctx, exp, order_by=[{"field_name": "source_run_id"}])[0])[-1] == "m2"


@pytest.mark.parametrize(
    "order_by, message",
    [
        ([{"field_name": "params.alpha"}], "Only metrics"),
        ([{"field_name": "flavor"}], "Invalid order by field name: flavor"),
        ([{"ascending": True}], "Invalid order_by entry"),
        ([{"field_name": "name", "ascending": "yes"}], "must be a boolean"),
        ([{"field_name": "name"}, {"field_name": "name"}], "duplicate"),
        ([{"field_name": "metrics.acc", "dataset_name": "iris"}], "not supported"),
        ("name", "expected a list"),
    ],
)
def test_bad_order_by(ctx, exp, models, order_by, message):
    with pytest.raises(MlflowError) as caught:
        search(ctx, exp, order_by=order_by)
    assert message in caught.value.message


def test_datasets_restriction_is_refused_not_ignored(ctx, exp, models):
    with pytest.raises(MlflowError, match="datasets"):
        search(ctx, exp, datasets=[{"dataset_name": "iris"}])
    assert len(search(ctx, exp, datasets=[])[0]) == 3


def test_paging(ctx, exp):
    for i in range(11):
        model = make_logged_model(exp, name=f"p{i:02d}", creation_timestamp=100 + i % 3)
        if i % 4:
            run = make_run(exp)
            set_metric(run, "score", float(i % 5), model_id=model.model_id)
    for order_by in (None, [{"field_name": "metrics.score", "ascending": False}], [{"field_name": "name", "ascending": True}]):
        everything = search(ctx, exp, order_by=order_by)[0]
        walked, token = [], None
        while True:
            page, token = search(ctx, exp, order_by=order_by, max_results=3, page_token=token)
            walked += page
            if token is None:
                break
        assert [m.model_id for m in walked] == [m.model_id for m in everything]
        assert len({m.model_id for m in walked}) == 11


def test_scope(workspace, other_workspace, alice, make_user, ctx_for, exp, models):
    secret = make_experiment(workspace, "secret", created_by=alice, restricted=True)
    make_logged_model(secret, name="hidden")
    bob = make_user("bob", workspace, Role.MEMBER)
    assert names(search_logged_models(ctx_for(alice, workspace), experiment_ids=[str(secret.pk)])[0]) == ["hidden"]
    assert search_logged_models(ctx_for(bob, workspace), experiment_ids=[str(secret.pk)]) == ([], None)
    outsider = make_user("olga", other_workspace, Role.ADMIN)
    assert search_logged_models(ctx_for(outsider, other_workspace), experiment_ids=[str(exp.pk), "0"]) == ([], None)


def test_one_query(ctx, exp, models, django_assert_num_queries):
    query = {
        "filter_string": "name LIKE 'm%' AND metrics.acc > 0 AND status != 'PENDING'",
        "order_by": [{"field_name": "metrics.acc", "ascending": False}],
        "max_results": 1,
    }
    with django_assert_num_queries(1):
        found, token = search(ctx, exp, **query)
        assert [m.experiment.name for m in found] == ["models-exp"]
        assert [m.source_run.name for m in found] == ["trainer"]
    assert names(found) == ["m1"] and token is not None
    with django_assert_num_queries(1):
        rest, token = search(ctx, exp, page_token=token, **query)
    assert names(rest) == ["m3"] and token is None
