"""Webhook secrets are stored encrypted: the column is renamed and any plaintext row encrypted."""

from django.db import migrations, models


def _convert(apps, transform):
    Webhook = apps.get_model("notifications", "Webhook")
    for hook in Webhook.objects.exclude(secret_encrypted="").only("pk", "secret_encrypted"):
        hook.secret_encrypted = transform(hook.secret_encrypted)
        hook.save(update_fields=["secret_encrypted"])


def encrypt_existing(apps, schema_editor):
    from notifications import encryption

    _convert(apps, encryption.encrypt)


def decrypt_existing(apps, schema_editor):
    from notifications import encryption

    _convert(apps, encryption.decrypt)


class Migration(migrations.Migration):
    dependencies = [("notifications", "0001_outbox_webhooks_watches")]

    operations = [
        migrations.RenameField("webhook", "secret", "secret_encrypted"),
        migrations.AlterField(
            "webhook", "secret_encrypted",
            models.TextField(blank=True, default="", help_text="Fernet token of the signing secret; empty: unsigned"),
        ),
        migrations.RunPython(encrypt_existing, decrypt_existing),
    ]
