"""The admin, for operators. Superusers see everything; a staff account that is not a superuser
sees and changes only its projects' objects, by the same policy as the pages (evalsite.access),
on top of Django's model permissions."""

from django.contrib import admin

from evalsite import access
from evalsite.models import Membership, Project


class ProjectScopedAdmin(admin.ModelAdmin):
    """Rows of the user's projects only; `project_path` leads from the model to its project."""

    project_path = "project"
    change_action = "change"  # what changing a row needs (members of a project: "manage")

    def get_queryset(self, request):
        return access.visible(request.user, super().get_queryset(request), via=self.project_path)

    def get_readonly_fields(self, request, obj=None):
        fields = list(super().get_readonly_fields(request, obj))
        # Moving a row to another project is an operator's act.
        if not request.user.is_superuser and self.project_path == "project":
            fields.append("project")
        return fields

    def has_change_permission(self, request, obj=None):
        return super().has_change_permission(request, obj) and self._may(request, obj)

    def has_delete_permission(self, request, obj=None):
        return super().has_delete_permission(request, obj) and self._may(request, obj)

    def _may(self, request, obj) -> bool:
        if obj is None or request.user.is_superuser:
            return True
        project = access.project_of(obj, self.project_path)
        return access.may(request.user, self.change_action, project)


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 1
    autocomplete_fields = ["user"]


@admin.register(Project)
class ProjectAdmin(ProjectScopedAdmin):
    project_path = "id"
    change_action = "manage"
    list_display = ["name", "slug", "created_at"]
    search_fields = ["name", "slug"]
    prepopulated_fields = {"slug": ["name"]}
    inlines = [MembershipInline]
