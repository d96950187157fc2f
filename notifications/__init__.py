"""Notifications: domain events, the transactional outbox, webhooks and e-mail.

Services call one helper of ``notifications.events`` inside their transaction; it writes an
``OutboxEvent`` row, so the event exists exactly when the change does. After commit a task fans
the event out into ``Delivery`` rows (one per subscribed webhook, one per watcher) and sends
them; the periodic ``notifications.drain`` task does the same for anything a lost task or a
broker outage left behind, so Redis being down only delays notifications.

Webhooks live here rather than in ``registry``: MLflow's webhook API is mounted with the
registry's, but Warden's webhooks also carry run and governance events, and every channel
shares the outbox, the delivery log and the retry rules. Keeping outbound HTTP in one app also
keeps the SSRF guard in one place.
"""
