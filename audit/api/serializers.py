"""Request and response shapes of the audit API (they also feed the OpenAPI schema)."""

import re

from rest_framework import serializers

from audit.models import AuditEvent, AuditExport, AuditorGrant, ExportFormat, Outcome

_ACTION = re.compile(r"^[a-z0-9_]+(\.[a-z0-9_]+)*(\.\*)?$")


class EventFilterInput(serializers.Serializer):
    since = serializers.DateTimeField(required=False, help_text="events at or after this time")
    until = serializers.DateTimeField(required=False, help_text="events before this time")
    actor = serializers.CharField(max_length=150, required=False, help_text="username, or user id")
    action = serializers.CharField(max_length=64, required=False, help_text="exact (`experiment.deleted`) or a prefix (`experiment.*`)")
    target_type = serializers.CharField(max_length=32, required=False)
    target_id = serializers.CharField(max_length=64, required=False)
    outcome = serializers.ChoiceField(choices=Outcome.choices, required=False)
    workspace = serializers.CharField(max_length=63, required=False, help_text="slug of one audited workspace")

    def validate_action(self, value):
        if not _ACTION.match(value):
            raise serializers.ValidationError("Use a dotted action name, optionally ending in '.*'.")
        return value

    def validate(self, data):
        if data.get("since") and data.get("until") and data["since"] >= data["until"]:
            raise serializers.ValidationError("'since' must be before 'until'.")
        return data


class EventListInput(EventFilterInput):
    limit = serializers.IntegerField(min_value=1, max_value=1000, default=100)
    cursor = serializers.CharField(max_length=8192, required=False, help_text="next_cursor of the previous page")


class ExportInput(EventFilterInput):
    format = serializers.ChoiceField(choices=ExportFormat.choices, default=ExportFormat.CSV)


SUMMARY_FIELDS = [
    "id", "time", "seq", "workspace_slug", "actor_id", "actor_name", "actor_kind", "token_id", "auth_method",
    "source_ip", "user_agent", "client_version", "request_id", "action", "target_type", "target_id", "target_name",
    "outcome", "error_code",
]


class EventSerializer(serializers.ModelSerializer):
    class Meta:
        model = AuditEvent
        fields = SUMMARY_FIELDS


class EventDetailSerializer(serializers.ModelSerializer):
    class Meta:
        model = AuditEvent
        fields = SUMMARY_FIELDS + ["changes", "prev_hash", "hash"]


class EventPageSerializer(serializers.Serializer):
    events = EventSerializer(many=True)
    next_cursor = serializers.CharField(allow_null=True)


class ChainReportSerializer(serializers.Serializer):
    chain_key = serializers.IntegerField()
    workspace = serializers.CharField(allow_blank=True, help_text="slug; empty for the chain of events of no workspace")
    ok = serializers.BooleanField()
    checked = serializers.IntegerField()
    unsealed = serializers.IntegerField()
    first_broken_seq = serializers.IntegerField(allow_null=True)
    first_broken_id = serializers.IntegerField(allow_null=True)
    reason = serializers.CharField(allow_blank=True)


class VerifySerializer(serializers.Serializer):
    ok = serializers.BooleanField()
    chains = ChainReportSerializer(many=True)


class VerifyInput(serializers.Serializer):
    workspace = serializers.CharField(max_length=63, required=False)


class ExportJobSerializer(serializers.ModelSerializer):
    requested_by = serializers.CharField(source="requested_by.username", read_only=True)
    verification = ChainReportSerializer(many=True, read_only=True)

    class Meta:
        model = AuditExport
        fields = [
            "id", "format", "filters", "status", "requested_by", "created_at", "started_at", "finished_at",
            "row_count", "size", "sha256", "verification", "error",
        ]


class AuditorSerializer(serializers.ModelSerializer):
    username = serializers.CharField(source="user.username")
    workspace = serializers.SlugRelatedField(slug_field="slug", read_only=True, allow_null=True)
    granted_by = serializers.CharField(source="granted_by.username", allow_null=True, default=None)

    class Meta:
        model = AuditorGrant
        fields = ["username", "workspace", "granted_by", "created_at"]


class AuditorInput(serializers.Serializer):
    username = serializers.CharField(max_length=150)


class RetentionSerializer(serializers.Serializer):
    keep_days = serializers.IntegerField(
        min_value=1, max_value=100000, allow_null=True, help_text="days sealed audit events are kept; null keeps them forever"
    )
