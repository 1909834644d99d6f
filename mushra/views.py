"""The listener's pages and JSON endpoints. Thin: look up the session, call a service, answer.

A session is identified by its token alone (in the URL path), never by a login: listeners arrive
anonymously from crowdsourcing sites. Nothing rendered here names a system, a test or a stored
file; audio goes out under per-session opaque ids (see ``audio``).
"""

import json
import re

from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import translation
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt, ensure_csrf_cookie
from django.views.decorators.http import require_GET, require_POST

from evalsite.errors import InputError
from mushra import services
from mushra.markdown import render_markdown
from mushra.models import ListeningTest, Session, Trial, TrialSignal
from mushra.selectors import trials_payload
from synth_workers.audio import encode_audio, read_audio

COOKIE = "mushra_session_{}"  # per test: reopening the link without a participant id resumes


def _session(token: str) -> Session:
    session = get_object_or_404(Session.objects.select_related("test"), token=token)
    translation.activate(session.test.language)
    return session


@never_cache
def entry(request: HttpRequest, slug: str):
    """The link listeners get: resume their session, or offer to start one."""
    test = get_object_or_404(ListeningTest, slug=slug)
    translation.activate(test.language)
    if test.status != ListeningTest.Status.OPEN:
        return render(request, "mushra/closed.html", status=410 if test.closed_at else 404)
    participant, source = _participant(request, test)
    token = request.COOKIES.get(COOKIE.format(test.pk))
    existing = test.sessions.filter(token=token).first() if token else None
    if participant:
        existing = test.sessions.filter(participant_id=participant).first() or existing
    if existing:
        return redirect("mushra:session", token=existing.token)
    if request.method == "POST":
        session = services.session_start(
            test=test, participant_id=participant, participant_source=source
        )
        response = redirect("mushra:session", token=session.token)
        response.set_cookie(
            COOKIE.format(test.pk), session.token, max_age=30 * 86400, samesite="Lax"
        )
        return response
    return render(request, "mushra/entry.html", {"query": request.GET.urlencode()})


def _participant(request: HttpRequest, test: ListeningTest) -> tuple[str, str]:
    for name in (p.strip() for p in test.participant_params.split(",")):
        value = (request.GET.get(name) or "").strip()
        if name and value:
            return value[:200], name
    return "", ""


@never_cache
def session_page(request: HttpRequest, token: str):
    """Whatever stage the session is at: reloading always lands where the listener was."""
    session = _session(token)
    test = session.test
    context = {"session": session, "test": test}
    if session.stage == Session.Stage.CONSENT:
        return render(request, "mushra/consent.html", context)
    if session.stage == Session.Stage.INSTRUCTIONS:
        context["instructions"] = render_markdown(test.instructions)
        return render(request, "mushra/instructions.html", context)
    if session.stage == Session.Stage.TRIALS:
        return _trials_page(request, session)
    if session.stage == Session.Stage.QUESTIONNAIRE:
        context["questions"] = services.QUESTIONS
        return render(request, "mushra/questionnaire.html", context)
    context["redirect_url"] = test.redirect_url.replace("{code}", test.completion_code)
    return render(request, "mushra/done.html", context)


@ensure_csrf_cookie
def _trials_page(request: HttpRequest, session: Session):
    config = {
        "session": session.token,
        "trials_url": reverse("mushra:trials", args=[session.token]),
        "submit_url": reverse("mushra:ratings", args=[session.token]),
        "done_url": reverse("mushra:session", args=[session.token]),
        "question": session.test.question,
    }
    return render(request, "mushra/trials.html", {"session": session, "config": config})


@require_POST
def consent(request: HttpRequest, token: str):
    services.session_consent(session=_session(token))
    return redirect("mushra:session", token=token)


@require_POST
def begin(request: HttpRequest, token: str):
    services.session_begin_trials(session=_session(token))
    return redirect("mushra:session", token=token)


@require_POST
def questionnaire(request: HttpRequest, token: str):
    session = _session(token)
    try:
        services.session_questionnaire(session=session, answers=request.POST.dict())
    except InputError as exc:
        context = {
            "session": session,
            "questions": services.QUESTIONS,
            "problems": exc.problems or [exc.message],
            "answers": request.POST,
        }
        return render(request, "mushra/questionnaire.html", context, status=400)
    return redirect("mushra:session", token=token)


@never_cache
@require_GET
def trials(request: HttpRequest, token: str) -> JsonResponse:
    return JsonResponse(trials_payload(_session(token)))


# The session token in the path is the credential (no cookie grants anything here), so a
# cross-site request cannot act for a listener: CSRF protection has nothing to protect.
@csrf_exempt
@require_POST
def ratings(request: HttpRequest, token: str) -> JsonResponse:
    session = _session(token)
    try:
        body = json.loads(request.body or b"null")
        if not isinstance(body, dict):
            raise InputError("the request body must be a JSON object")
        services.trial_submit(
            session=session,
            position=body.get("trial"),
            key=body.get("key"),
            ratings=body.get("ratings"),
        )
    except json.JSONDecodeError:
        return JsonResponse({"error": "the request body is not valid JSON"}, status=400)
    except InputError as exc:
        return JsonResponse({"error": str(exc), "problems": exc.problems}, status=400)
    return JsonResponse({"saved": True})


RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")


@require_GET
def audio(request: HttpRequest, token: str, public_id: str) -> HttpResponse:
    """A signal's prepared audio, by its opaque id, for this session only (HTTP ranges honoured).

    Sent as uncompressed 24-bit WAV (lossless from the stored 24-bit FLAC): a compressed file's
    size tells how compressible the signal is, and low-passed anchors would stand out in the
    network panel by size alone. PCM's size says only the duration, which is audible anyway.
    Built by hand rather than with FileResponse, which would name the stored file in a
    Content-Disposition header. Every signal is served the same way, reference and anchors too.
    """
    session = _session(token)
    stimulus = _signal_stimulus(session, public_id)
    with stimulus.audio.open("rb") as f:
        data = encode_audio(read_audio(f), fmt="wav", subtype="PCM_24")
    response = _ranged(request, data)
    response["Content-Type"] = "audio/wav"
    response["Accept-Ranges"] = "bytes"
    response["Cache-Control"] = "private, max-age=86400"
    return response


def _signal_stimulus(session: Session, public_id: str):
    signal = (
        TrialSignal.objects.filter(trial__session=session, public_id=public_id)
        .select_related("stimulus")
        .first()
    )
    if signal:
        return signal.stimulus
    trial = Trial.objects.filter(session=session, reference_public_id=public_id).first()
    if trial is None:
        raise Http404("no such audio in this session")
    return services.reference_stimulus(trial)


def _ranged(request: HttpRequest, data: bytes) -> HttpResponse:
    match = RANGE.match(request.headers.get("Range", ""))
    if not match or not (match[1] or match[2]):
        return HttpResponse(data)
    size = len(data)
    if match[1]:
        start, end = int(match[1]), min(int(match[2] or size - 1), size - 1)
    else:  # "bytes=-N": the last N bytes
        start, end = max(size - int(match[2]), 0), size - 1
    if start > end or start >= size:
        response = HttpResponse(status=416)
        response["Content-Range"] = f"bytes */{size}"
        return response
    response = HttpResponse(data[start : end + 1], status=206)
    response["Content-Range"] = f"bytes {start}-{end}/{size}"
    return response
