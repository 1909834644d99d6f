"""Listening tests over the API: list, read, progress, open (with every problem listed) and close.
Thin: the access policy scopes every lookup; writes go through ``mushra.services``."""

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.decorators import action
from rest_framework.response import Response

from evalsite.api.views import ProjectReadViewSet as Read
from mushra import services
from mushra.models import ListeningTest
from mushra.selectors import test_progress


class ListeningTestSerializer(serializers.ModelSerializer):
    listener_link = serializers.SerializerMethodField()

    class Meta:
        model = ListeningTest
        fields = [
            "id", "name", "slug", "status", "project", "corpus", "language",
            "trials_per_session", "ratings_wanted", "training", "questionnaire",
            "created_at", "opened_at", "closed_at", "listener_link",
        ]  # fmt: skip
        read_only_fields = fields

    def get_listener_link(self, test) -> str:
        return self.context["request"].build_absolute_uri(f"/t/{test.slug}/")


class ListeningTestViewSet(Read):
    """MUSHRA tests of your projects."""

    queryset = ListeningTest.objects.order_by("-created_at")
    serializer_class = ListeningTestSerializer

    @extend_schema(responses=dict)
    @action(detail=True, methods=["get"])
    def progress(self, request, pk=None) -> Response:
        return Response(test_progress(self.checked("view")))

    @extend_schema(request=None, responses=ListeningTestSerializer)
    @action(detail=True, methods=["post"], url_path="open")
    def open_test(self, request, pk=None) -> Response:
        """Open a draft to listeners; a 400 lists everything that is missing."""
        test = services.listening_test_open(test=self.checked("change"))
        return Response(self.get_serializer(test).data)

    @extend_schema(request=None, responses=ListeningTestSerializer)
    @action(detail=True, methods=["post"], url_path="close")
    def close_test(self, request, pk=None) -> Response:
        test = self.checked("change")
        services.listening_test_close(test=test)
        test.refresh_from_db()
        return Response(self.get_serializer(test).data)
