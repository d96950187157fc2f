"""Joins the two branches of accounts migrations: SSO identities and deletion retention."""

from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ('accounts', '0002_oidc_identities_and_group_mappings'),
        ('accounts', '0002_workspace_retention_days'),
    ]

    operations = [
    ]
