"""Shapes of Warden's notification API: the delivery log and watches."""

from rest_framework import serializers

from notifications.models import Delivery, DeliveryAttempt, Watch


class AttemptSerializer(serializers.ModelSerializer):
    class Meta:
        model = DeliveryAttempt
        fields = ["number", "started_at", "duration_ms", "status_code", "error", "succeeded"]


class DeliverySerializer(serializers.ModelSerializer):
    """Never the body sent nor anything the receiver answered beyond its status code."""

    delivery_id = serializers.UUIDField(source="id")
    attempt_log = AttemptSerializer(many=True)

    class Meta:
        model = Delivery
        fields = ["delivery_id", "event_type", "is_test", "status", "attempts", "next_attempt_at", "created_at", "completed_at", "attempt_log"]


class WatchSerializer(serializers.ModelSerializer):
    class Meta:
        model = Watch
        fields = ["target_type", "target_id", "created_at"]
