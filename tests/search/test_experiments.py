"""search_experiments against the database: filters, order, paging, view types and scope."""

import pytest

from accounts.models import Role
from experiments.errors import MlflowError
from experiments.models import Experiment
from experiments.search.experiments import search_experiments

from .conftest import make_experiment

pytestmark = pytest.mark.django_db


def names(experiments):
    return [e.name for e in experiments]


@pytest.fixture
def default(workspace):
    experiment = Experiment.objects.get(workspace=workspace, is_default=True)
    Experiment.objects.filter(pk=experiment.pk).update(creation_time=50, last_update_time=50)
    return Experiment.objects.get(pk=experiment.pk)


@pytest.fixture
def catalog(workspace, alice, default):
    return {
        "alpha": make_experiment(workspace, "alpha", created_by=alice, creation_time=300, last_update_time=900, tags={"team": "vision"}),
        "beta": make_experiment(workspace, "beta", created_by=alice, creation_time=200, last_update_time=950, tags={"team": "nlp", "env": "prod"}),
        "Gamma": make_experiment(workspace, "Gamma", creation_time=100, last_update_time=100),
        "old": make_experiment(workspace, "old", creation_time=400, lifecycle_stage="deleted"),
    }


def filtered(ctx, filter_string, **kwargs):
    return sorted(names(search_experiments(ctx, filter_string=filter_string, **kwargs)[0]))


@pytest.mark.parametrize(
    "filter_string, expected",
    [
        ("", ["Default", "Gamma", "alpha", "beta"]),
        ("name = 'alpha'", ["alpha"]),
        ("attribute.name != 'alpha'", ["Default", "Gamma", "beta"]),
        ("name LIKE '%a'", ["Gamma", "alpha", "beta"]),
        ("name LIKE 'g%'", []),
        ("name ILIKE 'g%'", ["Gamma"]),
        ("name IN ('alpha', 'beta')", ["alpha", "beta"]),
        ("creation_time > 150", ["alpha", "beta"]),
        ("creation_time <= 100", ["Default", "Gamma"]),
        ("last_update_time >= 950", ["beta"]),
        ("tags.team = 'vision'", ["alpha"]),
        ("tag.team LIKE '%i%'", ["alpha"]),
        ("tags.team != 'vision'", ["beta"]),
        ("tags.env IS NULL", ["Default", "Gamma", "alpha"]),
        ("tags.env IS NOT NULL AND tags.team = 'nlp'", ["beta"]),
        ("experiment_id = '0'", ["Default"]),
    ],
)
def test_filters(ctx, catalog, filter_string, expected):
    assert filtered(ctx, filter_string) == expected


def test_experiment_id_filters_use_wire_ids(ctx, catalog, default):
    alpha, beta = catalog["alpha"], catalog["beta"]
    assert filtered(ctx, f"experiment_id = '{alpha.pk}'") == ["alpha"]
    assert filtered(ctx, f"experiment_id IN ('0', '{beta.pk}')") == ["Default", "beta"]
    assert filtered(ctx, f"experiment_id NOT IN ('0', '{beta.pk}')") == ["Gamma", "alpha"]
    assert filtered(ctx, f"experiment_id = '{default.pk}'") == []  # its wire id is "0"


@pytest.mark.parametrize(
    "filter_string, message",
    [
        ("creation_time > 1.5", "expected a whole number for creation_time"),
        ("name > 'a'", "invalid comparator '>' for name"),
        ("metrics.acc > 1", "metrics cannot be searched when searching experiments"),
        ("experiment_id > '1'", "invalid comparator '>' for experiment_id"),
        ("experiment_id = 'abc'", "experiment_id must be a quoted decimal integer"),
        ("artifact_location = 'x'", "invalid attribute key 'artifact_location'"),
    ],
)
def test_bad_filters(ctx, catalog, filter_string, message):
    with pytest.raises(MlflowError) as caught:
        search_experiments(ctx, filter_string=filter_string)
    assert caught.value.error_code == "INVALID_PARAMETER_VALUE"
    assert message in caught.value.message


def test_default_order_is_creation_time_desc(ctx, catalog):
    assert names(search_experiments(ctx)[0]) == ["alpha", "beta", "Gamma", "Default"]


def test_order_by(ctx, catalog, default):
    assert names(search_experiments(ctx, order_by=["last_update_time DESC"])[0]) == ["beta", "alpha", "Gamma", "Default"]
    assert names(search_experiments(ctx, order_by=["creation_time ASC"])[0]) == ["Default", "Gamma", "beta", "alpha"]
    ascending = names(search_experiments(ctx, order_by=["experiment_id ASC"])[0])
    assert ascending[0] == "Default"  # wire id 0
    assert ascending[1:] == [e.name for e in sorted(catalog.values(), key=lambda e: e.pk) if e.name != "old"]
    assert names(search_experiments(ctx, order_by=["experiment_id DESC"])[0]) == ascending[::-1]
    by_name = names(search_experiments(ctx, order_by=["name"])[0])
    assert sorted(by_name) == ["Default", "Gamma", "alpha", "beta"]
    assert names(search_experiments(ctx, order_by=["name DESC"])[0]) == by_name[::-1]
    with pytest.raises(MlflowError, match="invalid attribute key 'artifact_location'"):
        search_experiments(ctx, order_by=["artifact_location"])
    with pytest.raises(MlflowError, match="cannot order by tags"):
        search_experiments(ctx, order_by=["tags.team"])


def test_ties_break_on_experiment_id(ctx, workspace, default):
    made = [make_experiment(workspace, f"same-{i}", creation_time=500) for i in range(4)]
    found = names(search_experiments(ctx, max_results=4)[0])
    assert found == [e.name for e in sorted(made, key=lambda e: e.pk)]
    found = names(search_experiments(ctx, order_by=["creation_time DESC"], max_results=4)[0])
    assert found == [e.name for e in sorted(made, key=lambda e: -e.pk)]


def test_view_types(ctx, catalog):
    assert filtered(ctx, "", view_type="DELETED_ONLY") == ["old"]
    assert filtered(ctx, "", view_type="ALL") == ["Default", "Gamma", "alpha", "beta", "old"]
    assert filtered(ctx, "", view_type=2) == ["old"]
    with pytest.raises(MlflowError, match="Invalid view type"):
        search_experiments(ctx, view_type="NEVER")


@pytest.mark.parametrize("order_by", [[], ["name"], ["last_update_time ASC"], ["experiment_id DESC"]])
def test_paging_walks_everything_once(ctx, workspace, default, order_by):
    for i in range(17):
        make_experiment(workspace, f"e{i:02d}", creation_time=1000 + i % 4, last_update_time=2000 - i % 3)
    everything = search_experiments(ctx, order_by=order_by)[0]
    walked, token, pages = [], None, 0
    while True:
        page, token = search_experiments(ctx, order_by=order_by, max_results=5, page_token=token)
        walked += page
        pages += 1
        if token is None:
            break
    assert pages == 4
    assert [e.pk for e in walked] == [e.pk for e in everything]
    assert len({e.pk for e in walked}) == 18


def test_page_token_is_tied_to_its_query_and_entity(ctx, catalog):
    _, token = search_experiments(ctx, max_results=1)
    with pytest.raises(MlflowError, match="Invalid page token"):
        search_experiments(ctx, max_results=1, page_token=token, filter_string="name LIKE '%'")
    from experiments.search.runs import search_runs

    with pytest.raises(MlflowError, match="Invalid page token"):
        search_runs(ctx, experiment_ids=["0"], page_token=token)


def test_max_results(ctx, catalog):
    assert len(search_experiments(ctx, max_results=50000)[0]) == 4
    with pytest.raises(MlflowError):
        search_experiments(ctx, max_results=50001)


def test_scope(workspace, other_workspace, alice, make_user, ctx_for, catalog):
    secret = make_experiment(workspace, "secret", created_by=alice, restricted=True)
    outsider = make_user("olga", other_workspace, Role.ADMIN)
    make_experiment(other_workspace, "foreign", created_by=outsider)
    bob = make_user("bob", workspace, Role.VIEWER)
    boss = make_user("boss", workspace, Role.ADMIN)
    assert "secret" in names(search_experiments(ctx_for(alice, workspace))[0])
    assert "secret" in names(search_experiments(ctx_for(boss, workspace))[0])
    bob_sees = names(search_experiments(ctx_for(bob, workspace), view_type="ALL")[0])
    assert "secret" not in bob_sees and "foreign" not in bob_sees
    assert sorted(bob_sees) == ["Default", "Gamma", "alpha", "beta", "old"]
    assert sorted(names(search_experiments(ctx_for(outsider, other_workspace))[0])) == ["Default", "foreign"]
    assert search_experiments(ctx_for(bob, workspace), filter_string="name = 'foreign'") == ([], None)
    assert secret.restricted


def test_one_query(ctx, catalog, django_assert_num_queries):
    with django_assert_num_queries(1):
        found, token = search_experiments(
            ctx, filter_string="name ILIKE '%a%' AND tags.team IS NOT NULL AND creation_time > 0", order_by=["name"], max_results=1
        )
    assert token is not None and len(found) == 1
    with django_assert_num_queries(1):
        rest, token = search_experiments(
            ctx, filter_string="name ILIKE '%a%' AND tags.team IS NOT NULL AND creation_time > 0", order_by=["name"], page_token=token
        )
    assert token is None and sorted(names(found + rest)) == ["alpha", "beta"]
