"""Who an SSO sign-in is: the identity (iss, sub), linking, provisioning and the group sync.

- A known identity signs its user in (unless that user was deactivated in Warden).
- An unknown identity is linked to an existing account only when linking is on, the provider
  says the e-mail is verified, and exactly one active person account has that e-mail.
- Otherwise the provisioning policy decides: ``create`` makes a user with no workspace and no
  permission (the group rules may then give some), ``refuse`` turns the sign-in away.
- Every sign-in re-applies the group rules (``accounts.sso.groups``).
"""

import hashlib
import re

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts.models import OidcIdentity, User
from accounts.sso import config, groups
from audit import actions
from audit.services import record
from audit.targets import target_of

_USERNAME_JUNK = re.compile(r"[^\w.@+-]+")
USERNAME_MAX = User._meta.get_field("username").max_length


class Refused(Exception):
    """The provider vouched for someone Warden will not sign in; ``reason`` is for the audit log."""

    def __init__(self, reason: str, message: str):
        super().__init__(message)
        self.reason = reason
        self.message = message


def email_of(claims: dict) -> tuple[str, bool]:
    """The e-mail claim and whether the provider says it is verified (a JSON true, nothing else)."""
    email = claims.get("email")
    if not isinstance(email, str) or "@" not in email or len(email) > 254:
        return "", False
    return email.strip(), claims.get("email_verified") is True


@transaction.atomic
def sign_in(*, issuer: str, claims: dict) -> User:
    subject = claims.get("sub")
    if not isinstance(subject, str) or not subject or len(subject) > 255:
        raise Refused("idp_error", "The provider sent no usable subject.")
    email, verified = email_of(claims)
    identity = _identity(issuer, subject, claims, email, verified)
    user = identity.user
    if not user.is_active or user.is_service_account:
        raise Refused("account_disabled", "This account is deactivated in Warden.")
    identity.last_login_at = timezone.now()
    if verified:
        identity.email = email
    identity.save(update_fields=["last_login_at", "email"])
    _refresh_profile(user, claims, email if verified else "")
    groups.sync(user=user, names=groups.names_in(claims))
    return user


def _identity(issuer, subject, claims, email, verified) -> OidcIdentity:
    """The identity, made on first sign-in. Two first sign-ins at once (two tabs) or two new
    users wanting one name: the loser's insert fails on a unique constraint, and a second look
    finds what the winner made (or a free name)."""
    for _ in range(3):
        found = OidcIdentity.objects.select_related("user").select_for_update().filter(issuer=issuer, subject=subject).first()
        if found is not None:
            return found
        try:
            with transaction.atomic():
                return _link(issuer, subject, email, verified) or _provision(issuer, subject, claims, email, verified)
        except IntegrityError:
            continue
    raise Refused("conflict", "Another sign-in for this account is under way; please try again.")


def _link(issuer, subject, email, verified) -> OidcIdentity | None:
    if not (settings.WARDEN_OIDC_LINK_VERIFIED_EMAIL and email and verified):
        return None
    candidates = list(User.objects.filter(email__iexact=email, is_active=True, is_service_account=False)[:2])
    if len(candidates) != 1 or candidates[0].oidc_identities.filter(issuer=issuer).exists():
        return None  # ambiguous, or that account already has its own identity at this provider
    user = candidates[0]
    identity = OidcIdentity.objects.create(user=user, issuer=issuer, subject=subject, email=email)
    record(
        actions.IDENTITY_LINKED,
        actor=user,
        **target_of(user),
        changes={"after": {"issuer": issuer, "subject": subject, "email": email, "by": "verified e-mail"}},
        auth_method="oidc",
    )
    return identity


def _provision(issuer, subject, claims, email, verified) -> OidcIdentity:
    if config.provisioning() != "create":
        if email and User.objects.filter(email__iexact=email).exists() and not verified:
            raise Refused("unverified_email", "Your e-mail address is not verified by the provider, so it cannot be linked.")
        raise Refused("unknown_user", "Your account is not known to Warden; ask an administrator to add you.")
    user = User(username=_free_username(issuer, subject, claims, email), email=email if verified else "")
    user.set_unusable_password()
    user.save()
    identity = OidcIdentity.objects.create(user=user, issuer=issuer, subject=subject, email=email if verified else "")
    record(
        actions.USER_PROVISIONED,
        actor=user,
        **target_of(user),
        changes={"after": {"username": user.username, "issuer": issuer, "subject": subject}},
        auth_method="oidc",
    )
    return identity


def _free_username(issuer, subject, claims, email) -> str:
    """The provider's preferred name if free, else made unique by a stable suffix."""
    preferred = claims.get("preferred_username")
    base = preferred if isinstance(preferred, str) and preferred.strip() else (email.split("@")[0] if email else subject)
    base = _USERNAME_JUNK.sub("-", base.strip()).strip("-")[: USERNAME_MAX - 9] or "user"
    if not User.objects.filter(username__iexact=base).exists():
        return base
    suffix = hashlib.sha256(f"{issuer}\n{subject}".encode()).hexdigest()[:8]
    return f"{base}-{suffix}"


def _refresh_profile(user: User, claims: dict, verified_email: str) -> None:
    fields = {}
    for field, claim in (("first_name", "given_name"), ("last_name", "family_name")):
        value = claims.get(claim)
        if isinstance(value, str):
            value = value[: User._meta.get_field(field).max_length]
            if value != getattr(user, field):
                fields[field] = value
    if verified_email and verified_email != user.email:
        fields["email"] = verified_email
    if fields:
        User.objects.filter(pk=user.pk).update(**fields)
        for field, value in fields.items():
            setattr(user, field, value)
