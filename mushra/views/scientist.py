"""Scientist pages: build a test, preview it as a listener, open it, follow it.

Signed-in members of the test's project only (``evalsite.access``): viewers follow and download,
editors also build, preview, open and close. Another project's test is a 404.
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.views.decorators.http import require_POST

from evalsite import access
from evalsite.errors import InputError
from mushra import services, sessions
from mushra.analysis import AnalysisError
from mushra.forms import NewTestForm
from mushra.metric_reads import listening_test_has_metric, listening_test_metric_progress
from mushra.models import ListeningTest
from mushra.planning_cache import plan_for_page
from mushra.planning_forms import PlanningForm
from mushra.planning_reads import cached_plan, plan_state, system_labels
from mushra.progress_reads import LISTENER_ROWS, progress_overview, timing_overview
from mushra.rating_reads import strata_choices
from mushra.result_cache import result_file, results_for_page
from mushra.result_options import (
    RESULT_FILES,
    report_options_from,
    result_names,
    worded_for_page,
)
from mushra.result_reads import cached_result, in_flight, ratings_fingerprint, result_state
from mushra.results import ReportOptions, listening_test_report_file
from mushra.selectors import listening_test_progress
from mushra.typed_results import is_typed
from synth_workers.models import Corpus, System


def _test(request: HttpRequest, test_id: int, action: str = "view") -> ListeningTest:
    return access.get_or_404(request.user, ListeningTest.objects.all(), action, pk=test_id)


def _int(value) -> int:
    return int(value) if isinstance(value, str) and value.isdigit() and len(value) < 10 else 0


@login_required
def new_test(request: HttpRequest):
    corpora = access.visible(
        request.user, Corpus.objects.filter(recordings__isnull=False), "change"
    )
    corpus = corpora.filter(pk=_int(request.GET.get("corpus"))).first()
    if corpus is None:
        # Where to import a corpus: the one project the user edits, else the dashboard's list.
        editable = list(access.projects_for(request.user, "change")[:2])
        context = {
            "corpora": corpora,
            "import_project": editable[0] if len(editable) == 1 else None,
        }
        return render(request, "mushra/new_test.html", context)
    form = NewTestForm(request.POST or None, corpus=corpus)
    if request.method == "POST" and form.is_valid():
        systems = [
            services.SystemCondition(
                System.objects.get(pk=system_id, project_id=corpus.project_id), condition
            )
            for system_id, condition in form.chosen()
        ]
        options = {k: v for k, v in form.cleaned_data.items() if k in NewTestForm.Meta.fields}
        try:
            test = services.listening_test_create(
                corpus=corpus,
                systems=systems,
                anchors=form.anchors(),
                gold=form.cleaned_data["gold"],
                user=request.user,
                **options,
            )
        except InputError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(request, f"Test '{test}' created as a draft.")
            return redirect("mushra:progress", test_id=test.pk)
    return render(request, "mushra/new_test.html", {"form": form, "corpus": corpus})


@login_required
def progress(request: HttpRequest, test_id: int):
    test = _test(request, test_id)
    link = request.build_absolute_uri(f"/t/{test.slug}/")
    metrics = listening_test_metric_progress(test)
    has_f0 = listening_test_has_metric(test, "f0")
    files = [n for n in result_names(test) if n != "f0.svg" or has_f0]
    context = {
        "test": test,
        "can_change": access.may(request.user, "change", test.project_id),
        "progress": listening_test_progress(test),
        "overview": progress_overview(test),
        "timing": timing_overview(test),
        "listener_rows_cap": LISTENER_ROWS,
        "listener_link": link,
        "labels": list(test.conditions.values_list("label", flat=True)),
        "strata": strata_choices(test),
        "result_files": [(name, RESULT_FILES[name][3]) for name in files],
        "typed": is_typed(test),
        "metrics": metrics,
        "metrics_url": reverse("mushra:metrics", args=[test.pk]),
        "metrics_json": reverse("mushra:metrics-json", args=[test.pk]),
        **_results_context(request, test),
    }
    return render(request, "mushra/progress.html", context)


def _results_context(request: HttpRequest, test: ListeningTest) -> dict:
    """The results' state for the options in the URL (a download that found them computing
    comes back here with its options): a large test's computation is queued if none is fresh."""
    try:
        options = report_options_from(request.GET)
    except AnalysisError:
        options = ReportOptions()  # the download that refused them said why
    query = request.GET.urlencode()
    plot = reverse("mushra:results", args=[test.pk, "conditions.svg"])
    return {
        "results": results_for_page(test, options),
        "results_status_url": reverse("mushra:results-status", args=[test.pk])
        + (f"?{query}" if query else ""),
        # The script adds v=<when computed>: a new result is a new URL, never a cached image.
        "results_plot_url": f"{plot}?{query}&" if query else f"{plot}?",
    }


STREAM_FROM_BYTES = 8 * 1024 * 1024  # a larger results file is streamed from storage


@login_required
def results_file(request: HttpRequest, test_id: int, name: str):
    """One report file: of the kept result of the chosen options (``mushra.result_cache``),
    computed in the request for a small test and by a worker for a large one. Until a large
    test's first result is ready, a download goes back to the page, which follows the worker;
    a stale one is served while its update is computed (the page says so)."""
    test = _test(request, test_id)
    if name not in result_names(test):
        raise Http404("unknown results file")
    fmt, content_type, inline, _ = RESULT_FILES[name]
    try:
        if fmt == "sessions_csv":  # no analysis: every session now, rated or not
            body, stale = listening_test_report_file(test, fmt, name, ReportOptions()), False
        else:
            body, stale = result_file(test, report_options_from(request.GET), fmt, name)
    except AnalysisError as exc:
        if content_type.startswith("image/"):  # an <img> of the test's page: no message queued
            return HttpResponse(
                f"No plot: {worded_for_page(exc)}", status=404, content_type="text/plain"
            )
        messages.error(request, f"No report: {worded_for_page(exc)}")
        return redirect("mushra:progress", test_id=test.pk)
    if body is None:
        return _computing(request, test, content_type)
    if not isinstance(body, bytes) and body.size <= STREAM_FROM_BYTES:
        with body:
            body = body.read()
    if isinstance(body, bytes):
        response = HttpResponse(body, content_type=content_type)
    else:  # e.g. the CSV of a million ratings: streamed, never held in memory
        response = FileResponse(body, content_type=content_type)
    disposition = "inline" if inline else "attachment"
    response["Content-Disposition"] = f'{disposition}; filename="{test.slug}-{name}"'
    response["X-Results-Stale"] = "yes" if stale else "no"
    return response


def _computing(request: HttpRequest, test: ListeningTest, content_type: str) -> HttpResponse:
    if content_type.startswith("image/"):
        text = "No plot yet: the results are being computed"
        return HttpResponse(text, status=404, content_type="text/plain")
    messages.info(
        request, "The results are being computed by a worker: download them here once ready."
    )
    query = request.GET.urlencode()
    url = reverse("mushra:progress", args=[test.pk])
    return redirect(f"{url}?{query}#results" if query else f"{url}#results")


@login_required
def results_status(request: HttpRequest, test_id: int) -> JsonResponse:
    """The results' state for the page's script: a read of one row while a worker computes;
    the ratings' fingerprint (is it stale?) only once it has finished."""
    test = _test(request, test_id)
    try:
        row = cached_result(test, report_options_from(request.GET))
    except AnalysisError as exc:
        return JsonResponse({"error": worded_for_page(exc)}, status=400)
    finished = row is not None and not in_flight(row)
    return JsonResponse(result_state(row, ratings_fingerprint(test) if finished else None))


@login_required
def progress_json(request: HttpRequest, test_id: int) -> JsonResponse:
    """The page's live numbers and pictures (the timing and the listener table are read once
    per page load: they scan every submitted trial)."""
    test = _test(request, test_id)
    return JsonResponse({**listening_test_progress(test), **progress_overview(test)})


@login_required
@require_POST
def measure_metrics(request: HttpRequest, test_id: int):
    """Queue the objective metrics of the test's stimuli that are not measured yet."""
    test = _test(request, test_id, "change")
    try:
        queued = services.listening_test_metrics_request(test=test)
    except InputError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(
            request,
            f"Measuring {queued} stimuli on the workers."
            if queued
            else "Every stimulus is measured.",
        )
    return redirect("mushra:progress", test_id=test.pk)


@login_required
def metrics_json(request: HttpRequest, test_id: int) -> JsonResponse:
    return JsonResponse(listening_test_metric_progress(_test(request, test_id)))


@login_required
@require_POST
def preview(request: HttpRequest, test_id: int):
    """A session flagged as preview: the listener's pages, counted nowhere.

    POST (a form with a CSRF token): it creates a session, so a link or a prefetch never does."""
    test = _test(request, test_id, "change")
    try:
        session = sessions.session_start(test=test, preview=True)
    except InputError as exc:
        messages.error(request, "; ".join([exc.message, *exc.problems[:10]]))
        return redirect("mushra:progress", test_id=test.pk)
    return redirect("mushra:session", token=session.token)


@login_required
@require_POST
def change_status(request: HttpRequest, test_id: int, action: str):
    test = _test(request, test_id, "change")
    if action not in ("open", "close"):
        raise Http404("unknown action")
    try:
        if action == "open":
            services.listening_test_open(test=test)
            messages.success(request, "The test is open: share the listener link.")
        else:
            services.listening_test_close(test=test)
            messages.success(request, "The test is closed: no new sessions start.")
    except InputError as exc:
        messages.error(request, exc.message)
        for problem in exc.problems[:50]:
            messages.error(request, problem)
    return redirect("mushra:progress", test_id=test.pk)


@login_required
def planning(request: HttpRequest, test_id: int):
    """How many listeners a difference needs, from the ratings so far as a pilot (GET form: its
    URL can be shared). Bad values are the form's errors at once; good ones show the kept plan
    or queue it on a worker (``mushra.planning_cache``), and the page's script follows it."""
    test = _test(request, test_id)
    form = PlanningForm(request.GET or None, labels=system_labels(test))
    context = {"test": test, "form": form, "state": None, "plan": None}
    if form.is_valid():
        row, state = plan_for_page(test, form.options())
        status_url = reverse("mushra:planning-status", args=[test.pk])
        context.update(
            state=state,
            plan=row.plan or None,
            plan_status_url=f"{status_url}?{request.GET.urlencode()}",
        )
    return render(request, "mushra/planning.html", context)


@login_required
def planning_status(request: HttpRequest, test_id: int) -> JsonResponse:
    """The plan's state for the planning page's script: a read of one row while a worker
    computes; once it has finished, whether it is stale and the plan itself, as HTML."""
    test = _test(request, test_id)
    form = PlanningForm(request.GET, labels=system_labels(test))
    if not form.is_valid():
        problems = [f"{name}: {e}" for name, errs in form.errors.items() for e in errs]
        return JsonResponse({"error": "invalid planning values", "problems": problems}, status=400)
    row = cached_plan(test, form.options())
    finished = row is not None and not in_flight(row)
    state = plan_state(row, ratings_fingerprint(test) if finished else None)
    if finished and row.plan:
        state["html"] = render_to_string("mushra/planning_plan.html", {"plan": row.plan})
    return JsonResponse(state)
