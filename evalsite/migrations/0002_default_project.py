"""Everything made before projects existed lands in the default project, and every staff user of
that time (they all saw and changed everything then) becomes one of its owners."""

from django.db import migrations


def staff_own_the_default_project(apps, schema_editor):
    Project = apps.get_model("evalsite", "Project")
    Membership = apps.get_model("evalsite", "Membership")
    User = apps.get_model("auth", "User")
    staff = list(User.objects.filter(is_staff=True))
    if not staff:
        return
    project, _ = Project.objects.get_or_create(slug="default", defaults={"name": "Default project"})
    for user in staff:
        Membership.objects.get_or_create(project=project, user=user, defaults={"role": "owner"})


class Migration(migrations.Migration):
    dependencies = [
        ("evalsite", "0001_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
    ]

    operations = [migrations.RunPython(staff_own_the_default_project, migrations.RunPython.noop)]
