from oauth2_provider.oauth2_validators import OAuth2Validator

from devidp.models import Profile


class ClaimsValidator(OAuth2Validator):
    """Claims of the ID token and of userinfo: e-mail (with its verified flag), names, groups."""

    oidc_claim_scope = {**OAuth2Validator.oidc_claim_scope, "groups": "profile"}

    def validate_silent_login(self, request):
        """prompt=none: the authorize view lets only signed-in, active users get this far (an
        anonymous one gets ``login_required`` before validation), so the login holds."""
        return True

    def validate_silent_authorization(self, request):
        """prompt=none: Warden's client skips the consent screen, so nothing needs asking."""
        return True

    def get_additional_claims(self, request):
        user = request.user
        profile = Profile.objects.filter(user=user).first()
        return {
            "email": user.email,
            "email_verified": bool(profile and profile.email_verified),
            "preferred_username": user.username,
            "given_name": user.first_name,
            "family_name": user.last_name,
            "name": user.get_full_name(),
            "groups": sorted(user.groups.values_list("name", flat=True)),
        }
