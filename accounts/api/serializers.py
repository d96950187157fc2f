"""Request and response shapes of Warden's own API (they also feed the OpenAPI schema)."""

from rest_framework import serializers

from accounts.models import ApiToken, Membership, Role, Team, User, Workspace
from accounts.permissions import GRANT_LEVELS

LEVEL_CHOICES = [level.name for level in GRANT_LEVELS]


class WorkspaceSerializer(serializers.ModelSerializer):
    class Meta:
        model = Workspace
        fields = ["slug", "name", "created_at"]
        read_only_fields = ["created_at"]


class WorkspaceCreateInput(serializers.Serializer):
    slug = serializers.CharField(max_length=63)
    name = serializers.CharField(max_length=200, required=False, allow_blank=True)
    admin = serializers.CharField(max_length=150, required=False, help_text="username made the workspace's first admin")


class WorkspaceUpdateInput(serializers.Serializer):
    name = serializers.CharField(max_length=200)


class MemberSerializer(serializers.ModelSerializer):
    username = serializers.CharField(source="user.username")
    is_service_account = serializers.BooleanField(source="user.is_service_account")

    class Meta:
        model = Membership
        fields = ["username", "role", "is_service_account", "created_at"]


class MemberInput(serializers.Serializer):
    username = serializers.CharField(max_length=150)
    role = serializers.ChoiceField(choices=Role.choices, default=Role.MEMBER)


class RoleInput(serializers.Serializer):
    role = serializers.ChoiceField(choices=Role.choices)


class TeamSerializer(serializers.ModelSerializer):
    members = serializers.SerializerMethodField()

    class Meta:
        model = Team
        fields = ["id", "name", "members", "created_at"]

    def get_members(self, team) -> list[str]:
        return [user.username for user in team.group.user_set.all()]


class TeamInput(serializers.Serializer):
    name = serializers.CharField(max_length=150)


class UsernameInput(serializers.Serializer):
    username = serializers.CharField(max_length=150)


class GrantSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=["user", "team"])
    user = serializers.SerializerMethodField()
    team = serializers.SerializerMethodField()
    team_name = serializers.SerializerMethodField()
    level = serializers.SerializerMethodField()

    def get_user(self, row) -> str | None:
        return row["user"].username if row["user"] else None

    def get_team(self, row) -> int | None:
        return row["team"].pk if row["team"] else None

    def get_team_name(self, row) -> str | None:
        return row["team"].name if row["team"] else None

    def get_level(self, row) -> str:
        return row["level"].name


class GrantInput(serializers.Serializer):
    user = serializers.CharField(max_length=150, required=False, help_text="username of a member of the workspace")
    team = serializers.IntegerField(required=False, help_text="id of a team of the workspace")
    level = serializers.ChoiceField(choices=LEVEL_CHOICES)

    def validate(self, data):
        if ("user" in data) == ("team" in data):
            raise serializers.ValidationError("Give exactly one of 'user' or 'team'.")
        return data


class LevelInput(serializers.Serializer):
    level = serializers.ChoiceField(choices=LEVEL_CHOICES)


class TokenSerializer(serializers.ModelSerializer):
    workspace = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    user = serializers.CharField(source="user.username", read_only=True)

    class Meta:
        model = ApiToken
        fields = ["id", "name", "user", "prefix", "workspace", "read_only", "created_at", "expires_at", "last_used_at", "revoked_at"]


class TokenCreatedSerializer(TokenSerializer):
    token = serializers.SerializerMethodField(help_text="the secret: shown in this answer only, never again")

    class Meta(TokenSerializer.Meta):
        fields = TokenSerializer.Meta.fields + ["token"]

    def get_token(self, token) -> str:
        return self.context["plaintext"]


class TokenInput(serializers.Serializer):
    name = serializers.CharField(max_length=200)
    workspace = serializers.CharField(
        max_length=63, required=False, allow_null=True, help_text="slug of the only workspace the token may act in"
    )
    read_only = serializers.BooleanField(default=False)
    expires_at = serializers.DateTimeField(required=False, allow_null=True)


class ServiceAccountTokenInput(serializers.Serializer):
    name = serializers.CharField(max_length=200)
    read_only = serializers.BooleanField(default=False)
    expires_at = serializers.DateTimeField(required=False, allow_null=True)


class ServiceAccountSerializer(serializers.ModelSerializer):
    class Meta:
        model = User
        fields = ["username", "is_active", "date_joined"]


class ServiceAccountInput(serializers.Serializer):
    username = serializers.CharField(max_length=150)
    role = serializers.ChoiceField(choices=Role.choices, default=Role.MEMBER)


class GrantedObjectSerializer(serializers.Serializer):
    experiment_id = serializers.CharField(required=False)
    name = serializers.CharField()
    level = serializers.CharField()


class WorkspacePermissionsSerializer(serializers.Serializer):
    workspace = serializers.CharField()
    role = serializers.CharField(allow_null=True)
    workspace_level = serializers.CharField()
    teams = serializers.ListField(child=serializers.CharField())
    experiments = GrantedObjectSerializer(many=True)
    registered_models = GrantedObjectSerializer(many=True)


class MeSerializer(serializers.Serializer):
    username = serializers.CharField()
    is_superuser = serializers.BooleanField()
    is_service_account = serializers.BooleanField()
    token = TokenSerializer(allow_null=True)
    permissions = WorkspacePermissionsSerializer(many=True)
