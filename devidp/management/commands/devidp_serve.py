from django.core.management import call_command
from django.core.management.base import BaseCommand

from devidp import demo


class Command(BaseCommand):
    help = "Set up (see devidp_setup) and serve the development identity provider."

    def add_arguments(self, parser):
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8800)
        parser.add_argument("--redirect-uri", action="append", dest="redirect_uris")
        parser.add_argument("--client-secret", default=demo.CLIENT_SECRET)

    def handle(self, *args, host, port, redirect_uris, client_secret, **options):
        setup = ["devidp_setup", "--client-secret", client_secret]
        for uri in redirect_uris or []:
            setup += ["--redirect-uri", uri]
        call_command(*setup)
        self.stderr.write(f"issuer: http://{host}:{port}/o")
        call_command("runserver", f"{host}:{port}", use_reloader=False, skip_checks=True, use_threading=True)
