from django.contrib.auth.models import User
from django.core.management.base import BaseCommand, CommandError

from devidp import demo
from devidp.models import Profile


class Command(BaseCommand):
    help = "Add or change a user of the development identity provider."

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--password")
        parser.add_argument("--email")
        parser.add_argument("--groups", help="comma-separated group names (replaces the user's groups)")
        parser.add_argument("--verified", choices=["yes", "no"], help="whether the e-mail counts as verified")
        state = parser.add_mutually_exclusive_group()
        state.add_argument("--disable", action="store_true")
        state.add_argument("--enable", action="store_true")

    def handle(self, *args, username, password, email, groups, verified, disable, enable, **options):
        user = User.objects.filter(username=username).first()
        if user is None:
            if not (password and email):
                raise CommandError("a new user needs --password and --email")
            user = demo.ensure_user(username, password, email, verified != "no")
        if password:
            user.set_password(password)
        if email:
            user.email = email
        if disable or enable:
            user.is_active = enable
        user.save()
        if verified:
            Profile.objects.update_or_create(user=user, defaults={"email_verified": verified == "yes"})
        if groups is not None:
            demo.set_groups(user, [name for name in groups.split(",") if name])
        self.stderr.write(f"{username}: active={user.is_active} groups={sorted(user.groups.values_list('name', flat=True))}")
