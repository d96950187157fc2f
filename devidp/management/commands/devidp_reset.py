from django.core.management.base import BaseCommand

from devidp import demo


class Command(BaseCommand):
    help = "Put the demo users back as they were (active, passwords, e-mails, groups)."

    def handle(self, *args, **options):
        demo.ensure_demo_users()
