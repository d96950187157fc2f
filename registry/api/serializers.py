"""Shapes of Warden's own registry API (protection and transition requests)."""

from rest_framework import serializers

from registry.models import TransitionRequest


class ProtectionInput(serializers.Serializer):
    protected = serializers.BooleanField()
    protected_aliases = serializers.ListField(child=serializers.CharField(max_length=255), required=False, max_length=100)


class TransitionRequestInput(serializers.Serializer):
    name = serializers.CharField(max_length=256)
    version = serializers.CharField(max_length=20)
    stage = serializers.CharField(required=False, max_length=16)
    alias = serializers.CharField(required=False, max_length=255)
    archive_existing_versions = serializers.BooleanField(required=False, default=False)
    comment = serializers.CharField(required=False, allow_blank=True, max_length=10_000, default="")

    def validate(self, data):
        if ("stage" in data) == ("alias" in data):
            raise serializers.ValidationError("Name either a 'stage' or an 'alias'.")
        return data


class DecisionInput(serializers.Serializer):
    comment = serializers.CharField(required=False, allow_blank=True, max_length=10_000, default="")


def protection_json(model) -> dict:
    return {"name": model.name, "protected": model.protected, "protected_aliases": list(model.protected_aliases or [])}


class TransitionRequestSerializer(serializers.ModelSerializer):
    name = serializers.CharField(source="registered_model.name")
    version = serializers.SerializerMethodField()
    to_stage = serializers.SerializerMethodField()
    alias = serializers.SerializerMethodField()
    requested_by = serializers.CharField(source="requested_by_name")
    decided_by = serializers.SerializerMethodField()

    class Meta:
        model = TransitionRequest
        fields = [
            "id", "name", "version", "kind", "to_stage", "alias", "archive_existing_versions", "status",
            "comment", "requested_by", "creation_timestamp", "decided_by", "decision_comment", "decided_timestamp",
        ]

    def get_version(self, obj) -> str:
        return str(obj.model_version.version)

    def get_to_stage(self, obj):
        return obj.to_stage or None

    def get_alias(self, obj):
        return obj.alias or None

    def get_decided_by(self, obj):
        return obj.decided_by_name or None
