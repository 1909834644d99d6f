"""The dashboard's read: a user's projects, each with its systems, corpora, synthesis jobs and
listening tests, in a fixed number of queries however many rows there are.

Counts are correlated subqueries (one per number shown) rather than joins: two joined counts
over sessions and ratings would multiply each other, and a subquery stays one query per table.
"""

from dataclasses import dataclass, field

from django.db.models import Count, IntegerField, OuterRef, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce

from evalsite import access
from evalsite.models import Membership, Project
from mushra.models import Condition, ListeningTest, Rating, Session
from synth_workers.models import Corpus, SynthesisJob, System, Utterance
from synth_workers.selectors import system_status


@dataclass
class ProjectOverview:
    project: Project
    role: str
    can_change: bool
    systems: list[dict] = field(default_factory=list)
    corpora: list[dict] = field(default_factory=list)
    jobs: list[SynthesisJob] = field(default_factory=list)
    tests: list[ListeningTest] = field(default_factory=list)


def count_of(queryset: QuerySet, link: str, outer: str = "pk") -> Coalesce:
    """The number of rows of `queryset` whose `link` is the outer row's `outer` (0 if none)."""
    counted = (
        queryset.filter(**{link: OuterRef(outer)})
        .order_by()
        .values(link)
        .annotate(n=Count("pk"))
        .values("n")
    )
    return Coalesce(Subquery(counted, output_field=IntegerField()), Value(0))


def dashboard(user) -> list[ProjectOverview]:
    """The user's projects by name, with their role and what each holds (six queries)."""
    projects = list(access.projects_for(user).order_by("name"))
    roles = dict(Membership.objects.filter(user=user).values_list("project_id", "role"))
    overviews = {}
    for project in projects:
        # A superuser operating the installation need not be a member: they act as an owner.
        role = roles.get(project.pk, Membership.Role.OWNER)
        can_change = access.ROLE_RANK[role] >= access.ROLE_RANK[access.NEEDS["change"]]
        overviews[project.pk] = ProjectOverview(project, role, can_change)
    ids = list(overviews)
    for system in System.objects.filter(project_id__in=ids).values(
        "pk", "name", "kind", "backend", "usable", "check_error", "project_id"
    ):
        system["status"] = system_status(system["usable"], system["check_error"])
        overviews[system["project_id"]].systems.append(system)
    corpora = (
        Corpus.objects.filter(project_id__in=ids)
        .annotate(n_utterances=count_of(Utterance.objects.all(), "corpus"))
        .values("pk", "name", "project_id", "recordings_id", "n_utterances")
        .order_by("name")
    )
    for corpus in corpora:
        overviews[corpus["project_id"]].corpora.append(corpus)
    jobs = SynthesisJob.objects.filter(project_id__in=ids).select_related("system", "corpus")
    for job in jobs.order_by("-created_at"):
        overviews[job.project_id].jobs.append(job)
    for test in _tests(ids):
        # What the test page's bars add up to: every stimulus rated `ratings_wanted` times.
        items = test.n_chosen or test.n_corpus_utterances
        test.ratings_target = test.ratings_wanted * test.n_conditions * items
        overviews[test.project_id].tests.append(test)
    return list(overviews.values())


def _tests(project_ids: list[int]) -> QuerySet[ListeningTest]:
    """The projects' tests with their listeners' sessions and ratings counted (previews left
    out: they are the scientist's own tries)."""
    sessions = Session.objects.filter(preview=False)
    return (
        ListeningTest.objects.filter(project_id__in=project_ids)
        .annotate(
            n_sessions=count_of(sessions, "test"),
            n_finished=count_of(sessions.filter(stage=Session.Stage.DONE), "test"),
            n_ratings=count_of(Rating.objects.filter(session__preview=False), "session__test"),
            n_conditions=count_of(Condition.objects.all(), "test"),
            n_chosen=count_of(ListeningTest.utterances.through.objects.all(), "listeningtest"),
            n_corpus_utterances=count_of(Utterance.objects.all(), "corpus", outer="corpus"),
        )
        .select_related("corpus")
        .order_by("-created_at")
    )
