"""Re-encrypt every stored webhook secret under the current WARDEN_ENCRYPTION_KEY.

After it, the keys in WARDEN_ENCRYPTION_KEY_PREVIOUS may be removed. A secret no configured
key decrypts is reported by webhook id and left as it is (the command then fails).
"""

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from notifications.encryption import SecretUnreadable, rotate
from notifications.models import Webhook


class Command(BaseCommand):
    help = "Re-encrypt webhook secrets under the current encryption key."

    def handle(self, *args, **options):
        rotated, unreadable = 0, []
        with transaction.atomic():
            for hook in Webhook.objects.exclude(secret_encrypted="").select_for_update().only("pk", "webhook_id", "secret_encrypted"):
                try:
                    hook.secret_encrypted = rotate(hook.secret_encrypted)
                except SecretUnreadable:
                    unreadable.append(hook.webhook_id)
                    continue
                hook.save(update_fields=["secret_encrypted"])
                rotated += 1
        self.stdout.write(f"{rotated} webhook secret(s) re-encrypted under the current key.")
        if unreadable:
            raise CommandError(f"{len(unreadable)} secret(s) decrypt with no configured key: webhooks {', '.join(unreadable)}")
