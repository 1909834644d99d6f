"""Admin for listening tests: build them (conditions inline), open and close them, follow them."""

from django.contrib import admin, messages
from django.db import models
from django.urls import reverse
from django.utils.html import format_html

from evalsite.admin import ProjectScopedAdmin
from evalsite.errors import InputError
from mushra.models import Condition, ListeningTest, Rating, Session
from mushra.services import listening_test_close, listening_test_open


class ConditionInline(admin.TabularInline):
    model = Condition
    extra = 0
    fields = ["label", "role", "system", "stimulus_condition"]

    def has_change_permission(self, request, obj=None) -> bool:
        # Once open, listeners' ratings refer to these conditions: they must not change.
        return obj is None or obj.status == ListeningTest.Status.DRAFT

    has_add_permission = has_change_permission
    has_delete_permission = has_change_permission


@admin.register(ListeningTest)
class ListeningTestAdmin(ProjectScopedAdmin):
    list_display = ["name", "status", "corpus", "sessions_finished", "links", "created_at"]
    list_filter = ["status"]
    search_fields = ["name", "slug"]
    prepopulated_fields = {"slug": ["name"]}
    inlines = [ConditionInline]
    readonly_fields = ["status", "links", "policy_key", "opened_at", "closed_at"]
    filter_horizontal = ["utterances"]
    actions = ["open_tests", "close_tests"]
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}

    @admin.display(description="sessions finished / started")
    def sessions_finished(self, test: ListeningTest) -> str:
        sessions = test.sessions.filter(preview=False)
        return f"{sessions.filter(stage=Session.Stage.DONE).count()} / {sessions.count()}"

    @admin.display(description="links")
    def links(self, test: ListeningTest) -> str:
        if test.pk is None:
            return "-"
        return format_html(
            # Previewing is a POST (it makes a session): its button is on the progress page.
            '<a href="{}">listener link</a> · <a href="{}">progress and preview</a>',
            reverse("mushra:entry", args=[test.slug]),
            reverse("mushra:progress", args=[test.pk]),
        )

    @admin.action(description="Open the selected tests to listeners")
    def open_tests(self, request, queryset) -> None:
        for test in queryset:
            try:
                listening_test_open(test=test)
            except InputError as exc:
                problems = "; ".join(exc.problems[:20])
                more = f" (and {len(exc.problems) - 20} more)" if len(exc.problems) > 20 else ""
                self.message_user(request, f"{exc.message}: {problems}{more}", messages.ERROR)
            else:
                self.message_user(request, f"'{test}' is open.", messages.SUCCESS)

    @admin.action(description="Close the selected tests")
    def close_tests(self, request, queryset) -> None:
        for test in queryset:
            listening_test_close(test=test)


@admin.register(Session)
class SessionAdmin(ProjectScopedAdmin):
    project_path = "test__project"
    list_display = ["test", "number", "participant_id", "stage", "preview", "created_at"]
    list_filter = ["test", "stage", "preview"]
    readonly_fields = [f.name for f in Session._meta.fields]

    def has_add_permission(self, request) -> bool:
        return False  # sessions start from the listener link


@admin.register(Rating)
class RatingAdmin(ProjectScopedAdmin):
    project_path = "session__test__project"
    list_display = ["session", "trial", "condition", "score", "plays", "listening_ms"]
    list_filter = ["session__test"]
    readonly_fields = [f.name for f in Rating._meta.fields]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False  # a listener's rating is evidence: never edited by hand
