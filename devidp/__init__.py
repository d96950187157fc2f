"""A small OpenID Connect provider for development and tests (django-oauth-toolkit).

Not part of Warden's server: it stands in for a company's identity provider, with demo users,
groups and a registered Warden client. Start it with ``python -m devidp serve`` (README).
"""
