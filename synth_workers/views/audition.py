"""The audition grid: scientists listen to a corpus' stimuli before they test them.

Members of the corpus' project see the grid; a stimulus' audio and provenance are served to
members of its system's project (``evalsite.access``; anything else is a 404). Unlike a
listener's audio, which is blind and session-bound (mushra.views.listener), this audio is the
prepared file as stored: members may know which system made it.
"""

from django.contrib.auth.decorators import login_required
from django.core.files.storage import default_storage
from django.http import FileResponse, HttpRequest, JsonResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from evalsite import access
from synth_workers.audition import AuditionFilters, audition_grid
from synth_workers.models import Corpus, Stimulus


@login_required
@require_GET
def audition(request: HttpRequest, corpus_id: int):
    corpus = access.get_or_404(request.user, Corpus.objects.all(), pk=corpus_id)
    filters = AuditionFilters.of(request.GET)
    grid = audition_grid(corpus, filters, request.GET.get("page", 1))
    return render(request, "synth_workers/audition.html", {"grid": grid, "filters": filters})


@login_required
@require_GET
def stimulus_audio(request: HttpRequest, stimulus_id: int):
    stim = _stimulus(request, stimulus_id)
    if stim.status != Stimulus.Status.READY:
        reason = f": {stim.error}" if stim.error else ""
        return _not_found(f"stimulus {stim.pk} is not ready ({stim.status}{reason})")
    # A fixed download name: the stored one is a hash, meaningless to a person.
    response = FileResponse(
        default_storage.open(stim.audio.name, "rb"),
        content_type="audio/flac",
        filename=f"stimulus-{stim.pk}.flac",
    )
    response["Cache-Control"] = "private, max-age=3600"
    return response


@login_required
@require_GET
def stimulus_provenance(request: HttpRequest, stimulus_id: int) -> JsonResponse:
    """Any status: a failed stimulus' provenance and error are what a scientist looks for."""
    stim = _stimulus(request, stimulus_id)
    return JsonResponse(
        {
            "id": stim.pk,
            "system": stim.system.name,
            "utterance": stim.utterance.key,
            "condition": stim.condition,
            "status": stim.status,
            "error": stim.error,
            "sha256": stim.sha256,
            "duration": stim.duration,
            "loudness_lufs": stim.loudness_lufs,
            "true_peak_dbtp": stim.true_peak_dbtp,
            "sample_rate": stim.sample_rate,
            "policy": stim.policy,
            "provenance": stim.provenance,
        },
        json_dumps_params={"indent": 2},
        headers={"Cache-Control": "private"},
    )


def _stimulus(request: HttpRequest, stimulus_id: int) -> Stimulus:
    stimuli = Stimulus.objects.select_related("system", "utterance")
    return access.get_or_404(request.user, stimuli, via="system__project", pk=stimulus_id)


def _not_found(message: str) -> JsonResponse:
    return JsonResponse({"error": message, "problems": []}, status=404)
