"""Scientist pages of a system and of a corpus, for members of its project (``evalsite.access``;
another project's is a 404). Reads are ``synth_workers.selectors``'."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from evalsite import access
from evalsite.errors import InputError
from synth_workers.models import Corpus, System
from synth_workers.selectors import corpus_stimuli, metric_panel_state, system_overview
from synth_workers.services.metrics import corpus_metrics_request

UTTERANCES_PER_PAGE = 100


@login_required
def system_detail(request: HttpRequest, system_id: int):
    system = access.get_or_404(request.user, System.objects.select_related("project"), pk=system_id)
    context = {
        "system": system,
        **system_overview(system),
        "can_synthesize": access.may(request.user, "change", system.project_id)
        and not system.synthesis_refusal(),
    }
    return render(request, "synth_workers/system.html", context)


@login_required
def corpus_detail(request: HttpRequest, corpus_id: int):
    corpus = access.get_or_404(
        request.user, Corpus.objects.select_related("project", "recordings"), pk=corpus_id
    )
    utterances = Paginator(corpus.utterances.order_by("key"), UTTERANCES_PER_PAGE)
    context = {
        "corpus": corpus,
        "page": utterances.get_page(request.GET.get("page")),
        "can_change": access.may(request.user, "change", corpus.project_id),
        "metrics": metric_panel_state(corpus_stimuli(corpus)),
        "metrics_url": reverse("synth_workers:corpus-metrics", args=[corpus.pk]),
        "metrics_json": reverse("synth_workers:corpus-metrics-json", args=[corpus.pk]),
    }
    return render(request, "synth_workers/corpus.html", context)


@login_required
@require_POST
def corpus_measure(request: HttpRequest, corpus_id: int):
    """Queue the objective metrics of the corpus' stimuli that are not measured yet."""
    corpus = access.get_or_404(request.user, Corpus.objects.all(), "change", pk=corpus_id)
    try:
        queued = corpus_metrics_request(corpus=corpus)
    except InputError as exc:
        messages.error(request, exc.message)
    else:
        done = "Every stimulus is measured."
        messages.success(request, f"Measuring {queued} stimuli on the workers." if queued else done)
    return redirect("synth_workers:corpus", corpus_id=corpus.pk)


@login_required
def corpus_metrics_json(request: HttpRequest, corpus_id: int) -> JsonResponse:
    corpus = access.get_or_404(request.user, Corpus.objects.all(), pk=corpus_id)
    return JsonResponse(metric_panel_state(corpus_stimuli(corpus)))
