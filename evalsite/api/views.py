"""Projects and their members over the API. Thin: validate → service → serialize; who may do
what is ``evalsite.access``'s (another project is a 404)."""

from django.http import JsonResponse
from django.views.decorators.csrf import csrf_exempt
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from evalsite import access, services
from evalsite.api import serializers as s
from evalsite.api.idempotency import HEADER, idempotent
from evalsite.models import Membership, Project


class ProjectScopedViewSet(viewsets.GenericViewSet):
    """Lists and lookups limited to the user's projects; ``project_path`` leads from the model
    to its project."""

    project_path = "project"
    lookup_value_regex = "[0-9]{1,18}"  # ids only: anything else is the JSON 404 below

    def get_queryset(self):
        queryset = super().get_queryset()
        return access.visible(self.request.user, queryset, via=self.project_path)

    def checked(self, action_name: str):
        """The object of this URL, if the user may do `action_name` to it (404 / 403 if not)."""
        obj = self.get_object()
        access.require(self.request.user, action_name, access.project_of(obj, self.project_path))
        return obj


class ProjectReadViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ProjectScopedViewSet):
    """List and read a project-owned model; ``?project=ID`` narrows the list to one project."""

    def get_queryset(self):
        queryset = super().get_queryset()
        project = self.request.query_params.get("project", "")
        if project.isdigit() and len(project) < 10:
            return queryset.filter(project_id=int(project))
        return queryset


class ProjectViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ProjectScopedViewSet):
    """Your projects, each with your role; make one (you become its owner); its members."""

    queryset = Project.objects.order_by("name")
    serializer_class = s.ProjectSerializer
    project_path = "id"

    def get_serializer_context(self):
        roles = dict(
            Membership.objects.filter(user=self.request.user).values_list("project_id", "role")
        )
        return {**super().get_serializer_context(), "roles": roles}

    @extend_schema(
        request=s.ProjectCreateSerializer, parameters=[HEADER], responses={201: s.ProjectSerializer}
    )
    @idempotent
    def create(self, request: Request) -> Response:
        data = _valid(s.ProjectCreateSerializer, request)
        project = services.project_create(name=data["name"], owner=request.user)
        body = s.ProjectSerializer(project, context=self.get_serializer_context()).data
        return Response(body, status=status.HTTP_201_CREATED)

    @extend_schema(responses=s.MembershipSerializer(many=True))
    @action(detail=True, methods=["get"], pagination_class=None)  # a project has few members
    def members(self, request: Request, pk=None) -> Response:
        project = self.checked("view")
        memberships = project.memberships.select_related("user").order_by("user__username")
        return Response(s.MembershipSerializer(memberships, many=True).data)

    @extend_schema(request=s.MemberSetSerializer, responses=s.MembershipSerializer)
    @members.mapping.post
    def set_member(self, request: Request, pk=None) -> Response:
        """Add a member, or change a member's role (owners only)."""
        project = self.checked("manage")
        data = _valid(s.MemberSetSerializer, request)
        membership = services.member_set(
            project=project, username=data["username"], role=data["role"]
        )
        return Response(s.MembershipSerializer(membership).data)

    @extend_schema(request=None, responses={204: None})
    @action(
        detail=True,
        methods=["delete"],
        url_path=r"members/(?P<username>[\w.@+-]{1,150})",
        pagination_class=None,
    )
    def remove_member(self, request: Request, pk=None, username: str = "") -> Response:
        """Remove a member (owners only); the project's last owner stays."""
        project = self.checked("manage")
        user_id = (
            project.memberships.filter(user__username=username)
            .values_list("user_id", flat=True)
            .first()
        )
        services.member_remove(project=project, user_id=user_id or 0)
        return Response(status=status.HTTP_204_NO_CONTENT)


def _valid(serializer_class, request: Request) -> dict:
    serializer = serializer_class(data=request.data)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


@csrf_exempt  # it changes nothing; a CSRF page would break the API's one error shape
def not_found(request, path: str = "") -> JsonResponse:
    """Any other URL under /api/: a 404 in the API's error shape, not an HTML page."""
    return JsonResponse({"error": "not found", "problems": []}, status=404)
