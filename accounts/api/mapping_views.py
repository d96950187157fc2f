"""IdP group rules of a workspace (``/api/v1/workspaces/<slug>/group-mappings``): admins only."""

from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.exceptions import NotFound
from rest_framework.response import Response

from accounts import selectors
from accounts.api.views import Invalid, WorkspaceView
from accounts.models import GroupMapping, Role
from accounts.sso import mappings


class GroupMappingSerializer(serializers.ModelSerializer):
    team = serializers.SerializerMethodField()
    role = serializers.SerializerMethodField()

    class Meta:
        model = GroupMapping
        fields = ["id", "group", "role", "team", "created_at"]

    def get_team(self, rule) -> int | None:
        return rule.team_id

    def get_role(self, rule) -> str | None:
        return rule.role or None


class GroupMappingInput(serializers.Serializer):
    group = serializers.CharField(max_length=255)
    role = serializers.ChoiceField(choices=Role.values, required=False, allow_null=True, allow_blank=True)
    team = serializers.IntegerField(required=False, allow_null=True, help_text="id of a team of this workspace")


class GroupMappingMixin:
    read_role = Role.ADMIN
    write_role = Role.ADMIN

    def fields_from(self, request, partial_of=None):
        data = self.valid(GroupMappingInput, request.data, partial=partial_of is not None)
        fields = {"group": partial_of.group, "role": partial_of.role, "team": partial_of.team} if partial_of else {}
        if "group" in data:
            fields["group"] = data["group"]
        if "role" in data or partial_of is None:
            fields["role"] = data.get("role") or ""
        if "team" in data or partial_of is None:
            team_id = data.get("team")
            team = selectors.team(self.ctx.workspace, team_id) if team_id is not None else None
            if team_id is not None and team is None:
                raise Invalid(f"Team {team_id} is not a team of this workspace.")
            fields["team"] = team
        return fields


class GroupMappingListView(GroupMappingMixin, WorkspaceView):
    @extend_schema(responses=GroupMappingSerializer(many=True))
    def get(self, request, slug):
        return Response(GroupMappingSerializer(selectors.group_mappings_of(self.ctx.workspace), many=True).data)

    @extend_schema(request=GroupMappingInput, responses={201: GroupMappingSerializer})
    def post(self, request, slug):
        """Add a rule: members of ``group`` get ``role`` here and/or join ``team`` at their next sign-in."""
        rule = mappings.group_mapping_create(actor=request.user, workspace=self.ctx.workspace, **self.fields_from(request))
        return Response(GroupMappingSerializer(rule).data, status=status.HTTP_201_CREATED)


class GroupMappingDetailView(GroupMappingMixin, WorkspaceView):
    def rule(self, rule_id):
        rule = selectors.group_mapping(self.ctx.workspace, rule_id)
        if rule is None:
            raise NotFound(f"Rule {rule_id} not found.")
        return rule

    @extend_schema(responses=GroupMappingSerializer)
    def get(self, request, slug, rule_id):
        return Response(GroupMappingSerializer(self.rule(rule_id)).data)

    @extend_schema(request=GroupMappingInput, responses=GroupMappingSerializer)
    def patch(self, request, slug, rule_id):
        rule = self.rule(rule_id)
        rule = mappings.group_mapping_update(actor=request.user, rule=rule, **self.fields_from(request, partial_of=rule))
        return Response(GroupMappingSerializer(rule).data)

    @extend_schema(responses={204: None})
    def delete(self, request, slug, rule_id):
        mappings.group_mapping_delete(actor=request.user, rule=self.rule(rule_id))
        return Response(status=status.HTTP_204_NO_CONTENT)
