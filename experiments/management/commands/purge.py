"""``manage.py purge [--dry-run] [--workspace SLUG]``: the periodic purge, run by hand.

The same service as the Celery task (``experiments.purge``): rows deleted longer ago than their
workspace's retention, with their artifacts, then orphaned folders and abandoned uploads.
``--dry-run`` lists what would go and changes nothing.
"""

from django.core.management.base import BaseCommand, CommandError

from accounts.models import Workspace
from experiments import purge


class Command(BaseCommand):
    help = "Purge objects deleted longer ago than their workspace's retention, with their artifacts."

    def add_arguments(self, parser):
        parser.add_argument("--dry-run", action="store_true", help="list what would be purged; change nothing")
        parser.add_argument("--workspace", metavar="SLUG", help="only this workspace (no staging-file sweep)")

    def handle(self, *args, dry_run=False, workspace=None, **options):
        target = None
        if workspace is not None:
            target = Workspace.objects.filter(slug=workspace).first()
            if target is None:
                raise CommandError(f"No workspace '{workspace}'.")
        try:
            report = purge.purge(workspace=target, dry_run=dry_run)
        except purge.PurgeBusy as exc:
            raise CommandError(f"{exc}; try again when it has finished.") from None
        verb = "would purge" if dry_run else "purged"
        for kind, labels in report.purged.items():
            for label in labels:
                self.stdout.write(f"{verb} {kind} {label}")
        for key in report.orphans:
            self.stdout.write(f"{verb} orphaned folder {key}")
        for name in report.abandoned_uploads:
            self.stdout.write(f"{verb} abandoned upload {name}")
        summary = ", ".join(f"{count} {name}" for name, count in report.counts().items())
        self.stderr.write(f"{'dry run: ' if dry_run else ''}{summary}")
