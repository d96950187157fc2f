"""``manage.py bootstrap``: idempotent first start that prints only a fresh, working token."""

from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from accounts import tokens
from accounts.models import ApiToken, Membership, Role, User, Workspace
from experiments.models import Experiment
from tests.conftest import WireClient
from tests.protocol.expect import expect_error, ok


def bootstrap(**options) -> tuple[str, str]:
    out, err = StringIO(), StringIO()
    call_command("bootstrap", stdout=out, stderr=err, **options)
    return out.getvalue(), err.getvalue()


def printed_token(stdout: str) -> str:
    """stdout holds exactly one line: a well-formed token."""
    lines = stdout.splitlines()
    assert len(lines) == 1 and stdout.endswith("\n"), repr(stdout)
    assert tokens.split(lines[0]) is not None, repr(stdout)
    return lines[0]


def state() -> dict:
    return {
        "users": User.objects.count(),
        "workspaces": Workspace.objects.count(),
        "memberships": Membership.objects.count(),
        "experiments": Experiment.objects.count(),
    }


def test_creates_admin_workspace_membership_and_default_experiment(db):
    stdout, stderr = bootstrap(admin="root", workspace="team-a", print_token=True)
    token = printed_token(stdout)
    user = User.objects.get(username="root")
    assert user.is_superuser and user.is_staff and not user.has_usable_password()
    workspace = Workspace.objects.get(slug="team-a")
    assert user.default_workspace == workspace
    assert Membership.objects.get(user=user, workspace=workspace).role == Role.ADMIN
    default = Experiment.objects.get(workspace=workspace)
    assert default.is_default and default.name == "Default"
    assert token not in stderr
    row = ApiToken.objects.get(user=user)
    assert row.workspace is None and not row.read_only and row.expires_at is None


def test_printed_token_authenticates_experiment_search(client, db):
    token = printed_token(bootstrap(admin="root", workspace="team-a", print_token=True)[0])
    experiments = ok(WireClient(client, token).get("experiments/search"))["experiments"]
    assert [(e["experiment_id"], e["name"]) for e in experiments] == [("0", "Default")]
    ok(WireClient(client, token, "team-a").post("experiments/create", {"name": "first"}))


def test_running_twice_is_idempotent_and_prints_a_fresh_working_token(client, db):
    first = printed_token(bootstrap(admin="root", workspace="team-a", print_token=True)[0])
    after_first = state()
    second_out, second_err = bootstrap(admin="root", workspace="team-a", print_token=True)
    second = printed_token(second_out)
    assert state() == after_first
    assert first != second
    assert ApiToken.objects.filter(user__username="root").count() == 2
    assert "created" not in second_err  # nothing was missing the second time
    for token in (first, second):
        ok(WireClient(client, token).get("experiments/search"))


def test_without_print_token_stdout_is_empty(client, db):
    stdout, stderr = bootstrap(admin="root", workspace="team-a")
    assert stdout == ""
    assert "root" in stderr and "team-a" in stderr
    assert Workspace.objects.filter(slug="team-a").exists()
    assert not ApiToken.objects.exists()
    assert bootstrap(admin="root", workspace="team-a") == ("", "")


def test_default_workspace_slug(db):
    bootstrap(admin="root")
    assert list(Workspace.objects.values_list("slug", flat=True)) == ["default"]


def test_existing_workspace_is_reused(client, workspace, member):
    before = Experiment.objects.filter(workspace=workspace).count()
    token = printed_token(bootstrap(admin="root", workspace="acme", print_token=True)[0])
    assert Workspace.objects.count() == 1
    assert Experiment.objects.filter(workspace=workspace).count() == before
    assert Membership.objects.get(user__username="root", workspace=workspace).role == Role.ADMIN
    ok(WireClient(client, token, "acme").get("experiments/search"))


def test_second_workspace_keeps_the_first_as_default(client, db):
    token = printed_token(bootstrap(admin="root", workspace="team-a", print_token=True)[0])
    bootstrap(admin="root", workspace="team-b")
    root = User.objects.get(username="root")
    assert root.default_workspace.slug == "team-a"
    assert set(Membership.objects.filter(user=root).values_list("workspace__slug", flat=True)) == {"team-a", "team-b"}
    assert Experiment.objects.filter(workspace__slug="team-b", is_default=True).count() == 1
    ok(WireClient(client, token, "team-b").get("experiments/search"))


def test_existing_user_is_made_workspace_admin_without_duplicates(make_user, workspace):
    make_user("ops", workspace, Role.VIEWER)
    bootstrap(admin="ops", workspace="acme")
    assert User.objects.filter(username="ops").count() == 1
    assert Membership.objects.get(user__username="ops", workspace=workspace).role == Role.ADMIN


@pytest.mark.parametrize("admin", ["", "   "])
def test_empty_admin_name_is_refused(db, admin):
    before = state()
    with pytest.raises(CommandError):
        bootstrap(admin=admin, print_token=True)
    assert state() == before and not ApiToken.objects.exists()


@pytest.mark.parametrize("slug", ["Bad Slug", "a/b", "", "x" * 64, "ws\x00"])
def test_invalid_workspace_slug_is_refused_and_writes_nothing(db, slug):
    before = state()
    with pytest.raises(CommandError):
        bootstrap(admin="root", workspace=slug, print_token=True)
    assert state() == before and not ApiToken.objects.exists()
    assert not User.objects.filter(username="root").exists()


def test_bootstrap_token_of_superuser_cannot_reach_a_missing_workspace(client, db):
    token = printed_token(bootstrap(admin="root", workspace="team-a", print_token=True)[0])
    expect_error(WireClient(client, token, "nowhere").get("experiments/search"), 404, "RESOURCE_DOES_NOT_EXIST")
