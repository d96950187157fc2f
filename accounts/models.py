"""Users, workspaces (the tenants), memberships with their roles, teams and API tokens."""

from django.contrib.auth.models import AbstractUser, Group
from django.db import models
from django.utils import timezone


class User(AbstractUser):
    """A person or a service account; service accounts only ever authenticate with tokens."""

    is_service_account = models.BooleanField(default=False)
    default_workspace = models.ForeignKey(
        "accounts.Workspace", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )


class Workspace(models.Model):
    """The tenant and isolation boundary: every tracked object belongs to exactly one."""

    slug = models.SlugField(max_length=63, unique=True)
    name = models.CharField(max_length=200)
    created_at = models.DateTimeField(default=timezone.now)
    # Days a deleted object stays restorable before the purge removes it; None: the server default
    # (WARDEN_DEFAULT_RETENTION_DAYS). Set by workspace admins through experiments.retention.
    retention_days = models.PositiveIntegerField(null=True, blank=True)

    def __str__(self):
        return self.slug


class Role(models.TextChoices):
    VIEWER = "viewer"
    MEMBER = "member"
    MAINTAINER = "maintainer"
    ADMIN = "admin"


class Membership(models.Model):
    """A user's role in a workspace: the floor of their access to its unrestricted objects."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="memberships")
    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=16, choices=Role.choices, default=Role.MEMBER)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "workspace"], name="membership_unique_user_workspace")]


class Team(models.Model):
    """A named group of users inside one workspace; the auth Group lets guardian grant to it."""

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="teams")
    name = models.CharField(max_length=150)
    group = models.OneToOneField(Group, on_delete=models.CASCADE, related_name="team")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["workspace", "name"], name="team_unique_workspace_name")]


class ApiToken(models.Model):
    """A bearer credential. Only a digest is stored; the secret is shown once at creation."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(max_length=200)
    prefix = models.CharField(max_length=16, unique=True)
    digest = models.CharField(max_length=64)
    workspace = models.ForeignKey(
        Workspace, null=True, blank=True, on_delete=models.CASCADE, related_name="api_tokens",
        help_text="The only workspace the token may act in; empty means all of the owner's.",
    )
    read_only = models.BooleanField(default=False)
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    def is_usable(self, now=None) -> bool:
        now = now or timezone.now()
        return self.revoked_at is None and (self.expires_at is None or self.expires_at > now)


class OidcIdentity(models.Model):
    """A sign-in identity at an OpenID provider: (issuer, subject) names it, never the e-mail."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="oidc_identities")
    issuer = models.CharField(max_length=255)
    subject = models.CharField(max_length=255)
    email = models.CharField(max_length=254, blank=True, help_text="The last verified e-mail the provider sent.")
    created_at = models.DateTimeField(default=timezone.now)
    last_login_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["issuer", "subject"], name="oidc_identity_unique_iss_sub")]


class GroupMapping(models.Model):
    """A rule: members of an IdP group get a role in a workspace and/or belong to one of its teams."""

    group = models.CharField(max_length=255, help_text="The group name as the provider's groups claim sends it.")
    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="group_mappings")
    role = models.CharField(max_length=16, choices=Role.choices, blank=True)
    team = models.ForeignKey(Team, null=True, blank=True, on_delete=models.CASCADE, related_name="group_mappings")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["workspace", "group", "team"], name="group_mapping_unique_rule"),
            models.CheckConstraint(
                condition=~models.Q(role="") | models.Q(team__isnull=False), name="group_mapping_gives_something"
            ),
        ]


class SyncedMembership(models.Model):
    """Marks a membership the IdP group sync made: the sync may change or end it, never an
    admin-made one."""

    membership = models.OneToOneField(Membership, on_delete=models.CASCADE, related_name="synced")
