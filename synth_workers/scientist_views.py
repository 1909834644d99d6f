"""Scientist pages of a system and of a corpus, for members of its project (``evalsite.access``;
another project's is a 404). Reads are ``synth_workers.selectors``'."""

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest
from django.shortcuts import render

from evalsite import access
from synth_workers.models import Corpus, System
from synth_workers.selectors import system_overview

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
    }
    return render(request, "synth_workers/corpus.html", context)
