from django.contrib.auth.hashers import PBKDF2PasswordHasher


class DemoPasswordHasher(PBKDF2PasswordHasher):
    """Demo passwords of a development provider need no production-grade stretching; fewer
    iterations keep each sign-in (and the tests that make many) quick."""

    algorithm = "pbkdf2_sha256_demo"
    iterations = 10_000
