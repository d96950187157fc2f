"""``manage.py audit_verify [--workspace SLUG]``: verify the audit chains, name the first broken link."""

from django.core.management.base import BaseCommand, CommandError

from accounts.models import Workspace
from audit.verification import chain_keys, verify_chain


class Command(BaseCommand):
    help = "Verify the audit log's hash chains; exits non-zero naming the first broken link of a broken chain."

    def add_arguments(self, parser):
        parser.add_argument("--workspace", help="slug of the one workspace whose chain to verify")

    def handle(self, *args, workspace=None, **options):
        if workspace:
            found = Workspace.objects.filter(slug=workspace).values_list("pk", flat=True).first()
            if found is None:
                raise CommandError(f"No workspace '{workspace}'.")
            keys = chain_keys(found)
        else:
            keys = chain_keys()
        slugs = dict(Workspace.objects.filter(pk__in=keys).values_list("pk", "slug"))
        broken = []
        for key in keys:
            report = verify_chain(key)
            name = f"workspace {slugs.get(key, key)}" if key else "no workspace (sign-ins)"
            if report.ok:
                self.stdout.write(f"OK      chain {key} ({name}): {report.checked} sealed, {report.unsealed} not yet sealed")
            else:
                broken.append(key)
                link = f"seq {report.first_broken_seq}" + (f", event id {report.first_broken_id}" if report.first_broken_id else "")
                self.stdout.write(f"BROKEN  chain {key} ({name}): first broken link at {link}: {report.reason}")
        if broken:
            raise CommandError(f"{len(broken)} of {len(keys)} audit chain(s) broken: {', '.join(map(str, broken))}")
        self.stdout.write(f"{len(keys)} audit chain(s) verified.")
