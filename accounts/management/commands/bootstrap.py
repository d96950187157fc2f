"""First start: the admin, the workspace and the membership if missing, and a fresh token.

Idempotent and migration-free, so scripts can run it on every start; only the token goes to
stdout. Its changes are audited as the system's: an operator ran the command, the admin it makes
did nothing yet.
"""

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from accounts import services
from accounts.models import Role, User, Workspace
from accounts.workspaces import SLUG_MAX_LENGTH, is_slug
from audit import actions
from audit.services import record
from audit.targets import target_of


class Command(BaseCommand):
    help = "Create the bootstrap admin and workspace if missing; optionally print a new API token."

    def add_arguments(self, parser):
        parser.add_argument("--admin", required=True, help="user name of the bootstrap admin")
        parser.add_argument("--workspace", default="default", help="workspace slug (default: default)")
        parser.add_argument("--print-token", action="store_true", help="create an API token and print it on stdout")

    @transaction.atomic
    def handle(self, *args, admin, workspace, print_token, **options):
        if not admin.strip():
            raise CommandError("--admin must not be empty")
        if not is_slug(workspace):
            raise CommandError(f"--workspace {workspace!r} is not a valid slug (letters, digits, '-' or '_', at most {SLUG_MAX_LENGTH})")
        user, created = User.objects.get_or_create(username=admin, defaults={"is_staff": True, "is_superuser": True})
        if created:
            user.set_unusable_password()
            user.save(update_fields=["password"])
            record(actions.USER_CREATED, **target_of(user), changes={"after": {"username": admin, "is_superuser": True}})
            self.stderr.write(f"created admin {admin!r}")
        ws = Workspace.objects.filter(slug=workspace).first()
        if ws is None:
            ws = services.workspace_create(actor=None, slug=workspace, name=workspace)
            self.stderr.write(f"created workspace {workspace!r}")
        services.membership_set(actor=None, workspace=ws, user=user, role=Role.ADMIN)
        if user.default_workspace_id is None:
            user.default_workspace = ws
            user.save(update_fields=["default_workspace"])
        if print_token:
            _, plaintext = services.token_create(actor=None, user=user, name="bootstrap", workspace=None)
            self.stdout.write(plaintext)
