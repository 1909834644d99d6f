"""What the API shows of platform objects (projects, members). Read-only fields only: every write
goes through a service with its own checks."""

from rest_framework import serializers

from evalsite.models import Membership, Project


class ProjectSerializer(serializers.ModelSerializer):
    role = serializers.SerializerMethodField(help_text="Your role in this project")

    class Meta:
        model = Project
        fields = ["id", "name", "slug", "description", "created_at", "role"]
        read_only_fields = fields

    def get_role(self, project) -> str:
        return self.context["roles"].get(project.pk, "owner")  # superusers act as owners


class MembershipSerializer(serializers.ModelSerializer):
    username = serializers.CharField(source="user.username")

    class Meta:
        model = Membership
        fields = ["username", "role", "created_at"]
        read_only_fields = fields


class ProjectCreateSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=200)


class MemberSetSerializer(serializers.Serializer):
    username = serializers.CharField(max_length=150)
    role = serializers.ChoiceField(choices=Membership.Role.choices)


class ErrorSerializer(serializers.Serializer):
    error = serializers.CharField()
    problems = serializers.ListField(child=serializers.CharField())
