"""The demo directory and the Warden client, made idempotently."""

from django.contrib.auth.models import Group, User
from oauth2_provider.models import Application

from devidp.models import Profile

# name: (password, e-mail, verified, first name, last name, groups)
DEMO_USERS = {
    "alice": ("alice-pass", "alice@example.org", True, "Alice", "Liddell", ["data-science", "ml-platform"]),
    "bob": ("bob-pass", "bob@example.org", False, "Bob", "Builder", ["data-science"]),
    "carol": ("carol-pass", "carol@example.org", True, "Carol", "Danvers", ["auditors"]),
}
CLIENT_ID = "warden"
CLIENT_SECRET = "warden-dev-secret"


def ensure_user(username, password, email, verified, first_name="", last_name="", groups=()):
    user, _ = User.objects.get_or_create(username=username)
    user.email, user.first_name, user.last_name, user.is_active = email, first_name, last_name, True
    user.set_password(password)
    user.save()
    Profile.objects.update_or_create(user=user, defaults={"email_verified": verified})
    set_groups(user, groups)
    return user


def set_groups(user, groups):
    user.groups.set([Group.objects.get_or_create(name=name)[0] for name in groups])


def ensure_demo_users():
    for username, fields in DEMO_USERS.items():
        ensure_user(username, *fields)


def ensure_client(redirect_uris, client_id=CLIENT_ID, client_secret=CLIENT_SECRET):
    """The Warden client: confidential, code flow, RS256, no consent screen. Signing out returns
    to Warden's sign-in page of each callback's origin."""
    logout_uris = [uri.replace("/oidc/callback/", "/signin") for uri in redirect_uris]
    app = Application.objects.filter(client_id=client_id).first() or Application(client_id=client_id)
    app.name = "Warden"
    app.client_secret = client_secret  # hashed on save
    app.client_type = Application.CLIENT_CONFIDENTIAL
    app.authorization_grant_type = Application.GRANT_AUTHORIZATION_CODE
    app.redirect_uris = " ".join(redirect_uris)
    app.post_logout_redirect_uris = " ".join(logout_uris)
    app.algorithm = Application.RS256_ALGORITHM
    app.skip_authorization = True
    app.save()
    return app
