"""Writes for accounts: workspaces, memberships and API tokens."""

from django.db import transaction
from django.utils import timezone

from accounts import tokens
from accounts.models import ApiToken, Membership, Role, User, Workspace
from accounts.workspaces import SLUG_MAX_LENGTH, is_slug


@transaction.atomic
def workspace_create(*, actor: User | None, slug: str, name: str = "") -> Workspace:
    """Create a workspace with its Default experiment; the slug must be one a header can name."""
    from experiments.services import default_experiment_ensure

    if not is_slug(slug or ""):
        raise ValueError(f"Invalid workspace slug {slug!r}: use 1-{SLUG_MAX_LENGTH} letters, digits, '-' or '_'.")
    workspace = Workspace.objects.create(slug=slug, name=name or slug)
    default_experiment_ensure(workspace=workspace)
    return workspace


@transaction.atomic
def membership_set(*, actor: User | None, workspace: Workspace, user: User, role: str) -> Membership:
    if role not in Role.values:
        raise ValueError(f"Unknown role {role!r}")
    membership, _ = Membership.objects.update_or_create(user=user, workspace=workspace, defaults={"role": role})
    return membership


@transaction.atomic
def token_create(
    *,
    actor: User | None,
    user: User,
    name: str,
    workspace: Workspace | None = None,
    read_only: bool = False,
    expires_at=None,
) -> tuple[ApiToken, str]:
    """Create a token and return it with its plaintext, which is never stored or shown again."""
    plaintext, prefix, digest = tokens.generate()
    token = ApiToken.objects.create(
        user=user, name=name, prefix=prefix, digest=digest, workspace=workspace, read_only=read_only, expires_at=expires_at
    )
    return token, plaintext


@transaction.atomic
def token_revoke(*, actor: User | None, token: ApiToken) -> ApiToken:
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])
    return token
