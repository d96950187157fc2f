from django.core.management import call_command
from django.core.management.base import BaseCommand

from devidp import demo

DEFAULT_REDIRECTS = ["http://127.0.0.1:5000/oidc/callback/", "http://localhost:5000/oidc/callback/"]


class Command(BaseCommand):
    help = "Migrate, make the demo users and groups, and register Warden as a client (idempotent)."

    def add_arguments(self, parser):
        parser.add_argument("--redirect-uri", action="append", dest="redirect_uris", help="Warden's /oidc/callback/ URL (repeatable)")
        parser.add_argument("--client-secret", default=demo.CLIENT_SECRET)

    def handle(self, *args, redirect_uris, client_secret, **options):
        call_command("migrate", verbosity=0, interactive=False)
        demo.ensure_demo_users()
        demo.ensure_client(redirect_uris or DEFAULT_REDIRECTS, client_secret=client_secret)
        self.stderr.write(f"devidp ready: client {demo.CLIENT_ID!r}, users {', '.join(demo.DEMO_USERS)}")
