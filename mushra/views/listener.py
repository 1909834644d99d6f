"""The listener's pages and JSON endpoints. Thin: look up the session, call a service, answer.

A session is identified by its token alone (in the URL path), never by a login: listeners arrive
anonymously from crowdsourcing sites. Nothing rendered here names a system, a test or a stored
file; audio goes out under per-session opaque ids (see ``audio``).

Every endpoint answers only in its stage (``sessions.STAGES``): a page or JSON 409 otherwise, and
a repeat of a step already taken (a double click on "I agree") leads back to where the listener
is. Hostile input is a 4xx with a message, never a 5xx: bodies are bounded, JSON is parsed
defensively, ``Range`` headers are parsed with bounded digits.
"""

import json
import re

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST

from evalsite.errors import InputError
from mushra import screening_stage, sessions
from mushra.delivery import listener_audio, trial_bundle
from mushra.i18n import shown_question
from mushra.markdown import render_markdown
from mushra.models import CROWD_PARAMS, ListeningTest, Session
from mushra.screening_reads import calibration_audio, check_audio, screening_payload
from mushra.selectors import signal_for_audio, trials_payload
from mushra.selectors import trial_audio as trial_files
from mushra.sessions import Stage, StageError

COOKIE = "mushra_session_{}"  # per test: reopening the link without a participant id resumes
COOKIE_MAX_AGE = 30 * 86400
MAX_RATINGS_BODY = 64 * 1024  # a trial of 12 signals needs about 2 kB
MAX_PARAM = 200  # characters of a participant id or resume parameter
MTURK_PREVIEW = "ASSIGNMENT_ID_NOT_AVAILABLE"  # MTurk shows the task before a worker accepts it
# CSRF of the listener's JSON endpoints (ratings, screening answers): they are exempt, and the
# player sends no CSRF header. CSRF guards requests a browser authenticates with its cookies;
# these are authorised by the session's secret token in the URL path, which a cross-site page
# cannot know, and the session cookie is only used by the entry link to find a session to resume.
# A CSRF check would add nothing but a way to lose ratings (a blocked or expired csrftoken cookie).
REFUSAL_PAGES = {  # sessions.Entry.refusal -> page and status
    "taken": ("mushra/taken.html", 409),
    "full": ("mushra/full.html", 410),
    "closed": ("mushra/closed.html", 404),
}


def _session(token: str) -> Session:
    """The session of a token, its test's language active, ended first if past the time limit."""
    session = get_object_or_404(Session.objects.select_related("test"), token=token)
    translation.activate(session.test.language)
    sessions.session_time_out_if_due(session=session)
    return session


def _set_cookie(response: HttpResponse, test: ListeningTest, session: Session) -> HttpResponse:
    response.set_cookie(
        COOKIE.format(test.pk),
        session.token,
        max_age=COOKIE_MAX_AGE,
        samesite="Lax",
        httponly=True,  # the player never reads it; a script injected elsewhere cannot either
        secure=getattr(settings, "LISTENER_COOKIE_SECURE", False),
    )
    return response


@never_cache
def entry(request: HttpRequest, slug: str):
    """The link listeners get: resume their session, or offer to start one."""
    test = get_object_or_404(ListeningTest, slug=slug)
    translation.activate(test.language)
    if test.status != ListeningTest.Status.OPEN:
        return render(request, "mushra/closed.html", status=410 if test.closed_at else 404)
    try:
        participant, source = _param(request, test.participant_params)
        resume_value, _ = _param(request, test.resume_params)
        crowd = _crowd(request)
    except InputError as exc:
        return render(request, "mushra/refused.html", {"message": exc.message}, status=400)
    entry = sessions.session_enter(
        test=test,
        start=request.method == "POST",
        cookie_token=request.COOKIES.get(COOKIE.format(test.pk), ""),
        participant_id=participant,
        participant_source=source,
        resume_value=resume_value,
        crowd=crowd,
    )
    if entry.session:
        page = redirect("mushra:session", token=entry.session.token)
        return _set_cookie(page, test, entry.session)
    if entry.refusal:
        template, status = REFUSAL_PAGES[entry.refusal]
        return render(request, template, status=status)
    return render(request, "mushra/entry.html", {"query": request.GET.urlencode()})


def _crowd(request: HttpRequest) -> dict[str, str]:
    """The crowdsourcing site's ids in the link, checked like a participant id. A worker still
    previewing an MTurk task (not accepted yet) is asked to accept it first: a session started
    then could not be paid."""
    crowd = {}
    for name in CROWD_PARAMS:
        value = _param(request, name)[0]
        if value:
            crowd[name] = value
    if crowd.get("assignmentId") == MTURK_PREVIEW:
        raise InputError(gettext("please accept the task first, then start the test"))
    return crowd


def _param(request: HttpRequest, names: str) -> tuple[str, str]:
    """The first of the comma-separated entry-URL parameters `names` that has a value."""
    for name in (p.strip() for p in names.split(",")):
        value = (request.GET.get(name) or "").strip() if name else ""
        if value:
            if len(value) > MAX_PARAM or not value.isprintable():
                raise InputError(
                    gettext("the link's %s is not a valid id; open the study link again") % name
                )
            return value, name
    return "", ""


@never_cache
def session_page(request: HttpRequest, token: str):
    """Whatever stage the session is at: reloading always lands where the listener was."""
    session = _session(token)
    test = session.test
    context = {"session": session, "test": test}
    if session.stage == Stage.CONSENT:
        return render(request, "mushra/consent.html", context)
    if session.stage == Stage.SCREENING:
        return _screening_page(request, session)
    if session.stage == Stage.INSTRUCTIONS:
        context["instructions"] = render_markdown(test.instructions)
        return render(request, "mushra/instructions.html", context)
    if session.stage == Stage.TRIALS:
        return _trials_page(request, session)
    if session.stage == Stage.QUESTIONNAIRE:
        context["questions"] = sessions.QUESTIONS
        return render(request, "mushra/questionnaire.html", context)
    return _end_page(request, session)


# Each way a session ends: its page, and the study's code and return URL for it.
_ENDS = {
    Session.Outcome.SCREENED_OUT: ("mushra/screened_out.html", "screen_out_code", "screen_out_url"),
    Session.Outcome.TIMED_OUT: ("mushra/timed_out.html", "time_out_code", "time_out_url"),
}
_COMPLETED = ("mushra/done.html", "completion_code", "redirect_url")


def _end_page(request: HttpRequest, session: Session) -> HttpResponse:
    test = session.test
    template, code_field, url_field = _ENDS.get(session.outcome, _COMPLETED)
    code = getattr(test, code_field)
    context = {
        "session": session,
        "test": test,
        "code": code,
        "redirect_url": getattr(test, url_field).replace("{code}", code),
    }
    return render(request, template, context)


def _screening_page(request: HttpRequest, session: Session) -> HttpResponse:
    config = {**screening_payload(session), "strings": _screening_strings()}
    return render(request, "mushra/screening.html", {"session": session, "config": config})


def _screening_strings() -> dict[str, str]:
    """The screening page's words in the test's language ({n}, {total}: filled in by the page)."""
    return {
        "volumeTitle": gettext("Set your volume"),
        "volumeText": gettext(
            "Put on your headphones. Play the noise and set your device's volume so that it is "
            "clearly audible and comfortable. Keep this volume for the rest of the test."
        ),
        "playNoise": gettext("Play the noise"),
        "stopNoise": gettext("Stop the noise"),
        "volumeSet": gettext("The volume is set — continue"),
        "trialTitle": gettext("Headphone check {n} of {total}"),
        "quietest": gettext("You will hear three tones. Which one is the quietest?"),
        "tone": gettext(
            "You will hear three noises. One of them contains a faint tone. Which one?"
        ),
        "playOnce": gettext("The sounds play once, one after another. Listen carefully."),
        "play": gettext("Play the sounds"),
        "sound": gettext("Sound {n}"),
        "loading": gettext("Loading the sounds…"),
        "unreachable": gettext("Could not reach the server — trying again…"),
        "refused": gettext("Your answer was not accepted:"),
    }


def _trials_page(request: HttpRequest, session: Session):
    config = {
        "session": session.token,
        "trials_url": reverse("mushra:trials", args=[session.token]),
        "submit_url": reverse("mushra:ratings", args=[session.token]),
        "done_url": reverse("mushra:session", args=[session.token]),
        "question": shown_question(session.test),
    }
    return render(request, "mushra/trials.html", {"session": session, "config": config})


def _stage_page(request: HttpRequest, session: Session, exc: StageError) -> HttpResponse:
    context = {"session": session, "message": exc.message}
    return render(request, "mushra/wrong_stage.html", context, status=409)


@require_POST
def consent(request: HttpRequest, token: str):
    session = _session(token)
    sessions.session_consent(session=session)  # consent is the first stage: never too early
    return redirect("mushra:session", token=token)


@require_POST
def begin(request: HttpRequest, token: str):
    session = _session(token)
    try:
        sessions.session_begin_trials(session=session)
    except StageError as exc:
        return _stage_page(request, session, exc)
    return redirect("mushra:session", token=token)


@require_POST
def questionnaire(request: HttpRequest, token: str):
    session = _session(token)
    if session.stage == Stage.DONE:
        return redirect("mushra:session", token=token)  # sent twice: it is saved
    try:
        sessions.session_questionnaire(session=session, answers=request.POST.dict())
    except StageError as exc:
        return _stage_page(request, session, exc)
    except InputError as exc:
        context = {
            "session": session,
            "questions": sessions.QUESTIONS,
            "problems": exc.problems or [exc.message],
            "answers": request.POST,
        }
        return render(request, "mushra/questionnaire.html", context, status=400)
    return redirect("mushra:session", token=token)


@csrf_exempt  # see "CSRF of the listener's JSON endpoints" above
@require_POST
def screening(request: HttpRequest, token: str) -> JsonResponse:
    """The screening's answers: ``{"calibrated": true}`` once the volume is set, then
    ``{"kind", "position", "answer"}`` per headphone-check trial. Answers whether the stage is
    over (``next``: where to go), never whether an answer was right."""
    session = _session(token)
    try:
        body = _json_body(request)
        if body.get("calibrated") is True:
            screening_stage.calibration_done(session=session)
        else:
            screening_stage.headphone_answer(
                session=session,
                kind=body.get("kind"),
                position=body.get("position"),
                answer=body.get("answer"),
            )
    except StageError as exc:
        return _json_stage_error(exc.stage, exc.message)
    except InputError as exc:
        status = 413 if isinstance(exc, BodyTooLarge) else 400
        return JsonResponse({"error": str(exc), "problems": exc.problems}, status=status)
    over = session.stage != Stage.SCREENING
    return JsonResponse({"over": over, "next": reverse("mushra:session", args=[token])})


@require_GET
def screening_audio(request: HttpRequest, token: str, kind: str, position: int, interval: int):
    """One interval of a headphone-check trial, as 16-bit WAV: the three intervals of a trial
    have the same length, so the same size, whichever is the answer (a FLAC's size would differ
    with the content)."""
    session = _session(token)
    if session.stage != Stage.SCREENING:
        return _json_stage_error(session.stage, "the headphone check is over for this session")
    if kind not in screening_stage.check_kinds(session.test) or position >= screening_stage.TRIALS:
        raise Http404("no such trial in this headphone check")
    if interval > 2:
        raise Http404("a trial has three sounds")
    return _wav(check_audio(session, kind, position, interval))


@require_GET
def calibration(request: HttpRequest, token: str) -> HttpResponse:
    """The volume-calibration noise (the same for every listener and test loudness)."""
    session = _session(token)
    if session.stage != Stage.SCREENING:
        return _json_stage_error(session.stage, "the volume setting is over for this session")
    return _wav(calibration_audio())


def _wav(data: bytes) -> HttpResponse:
    response = HttpResponse(data, content_type="audio/wav")
    response["Cache-Control"] = "private, max-age=3600"
    return response


def _json_stage_error(session_stage: str, message: str) -> JsonResponse:
    return JsonResponse({"error": message, "stage": session_stage}, status=409)


@never_cache
@require_GET
def trials(request: HttpRequest, token: str) -> JsonResponse:
    session = _session(token)
    if session.stage != Stage.TRIALS:
        return _json_stage_error(session.stage, "this session is not at its trials")
    return JsonResponse(trials_payload(session))


# The session token in the path is the credential (no cookie grants anything here), so a
# cross-site request cannot act for a listener: CSRF protection has nothing to protect.
@csrf_exempt  # see "CSRF of the listener's JSON endpoints" above
@require_POST
def ratings(request: HttpRequest, token: str) -> JsonResponse:
    # The player names its test's language (Accept-Language): messages in it, without a query.
    translation.activate(translation.get_language_from_request(request))
    try:
        body = _json_body(request)
        sessions.trial_submit(
            token=token,
            position=body.get("trial"),
            key=body.get("key"),
            ratings=body.get("ratings"),
        )
    except Session.DoesNotExist:
        return JsonResponse({"error": "no such session"}, status=404)
    except StageError as exc:
        return _json_stage_error(exc.stage, exc.message)
    except InputError as exc:
        status = 413 if isinstance(exc, BodyTooLarge) else 400
        return JsonResponse({"error": str(exc), "problems": exc.problems}, status=status)
    return JsonResponse({"saved": True})


class BodyTooLarge(InputError):
    """A request body over the endpoint's bound (HTTP 413)."""


def _json_body(request: HttpRequest) -> dict:
    """The request body as a JSON object, or an InputError saying what is wrong with it."""
    try:
        declared = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        declared = 0
    if declared > MAX_RATINGS_BODY:
        raise BodyTooLarge(f"the request body is larger than {MAX_RATINGS_BODY} bytes")
    raw = request.read(MAX_RATINGS_BODY + 1)
    if len(raw) > MAX_RATINGS_BODY:
        raise BodyTooLarge(f"the request body is larger than {MAX_RATINGS_BODY} bytes")
    try:
        body = json.loads(raw.decode("utf-8") or "null")
    except UnicodeDecodeError:
        raise InputError("the request body is not UTF-8 text") from None
    except RecursionError:
        raise InputError("the request body is nested too deeply") from None
    except ValueError:  # JSONDecodeError, and integers of more than 4,300 digits
        raise InputError("the request body is not valid JSON") from None
    if not isinstance(body, dict):
        raise InputError("the request body must be a JSON object")
    return body


RANGE = re.compile(r"^bytes=(\d{0,15})-(\d{0,15})$")  # 15 digits: beyond any file we serve


@require_GET
def audio(request: HttpRequest, token: str, public_id: str) -> HttpResponse:
    """A signal's prepared audio, by its opaque id, for this session only (HTTP ranges honoured).

    Sent as FLAC padded to the size of the trial's largest signal (see ``delivery``): sizes are
    equal within a trial, and nothing in the file names the system or the stored file. Built by
    hand rather than with FileResponse, which would name the stored file in a
    Content-Disposition header. Every signal is served the same way, reference and anchors too.
    One query (two for the open reference): the most frequent request of a listener.
    """
    signal = signal_for_audio(token, public_id)
    if signal is None:
        raise Http404("no such audio in this session")
    if signal.stage != Stage.TRIALS:
        return _json_stage_error(signal.stage, "audio is served only during the trials")
    data, content_type = listener_audio(signal)
    response = _ranged(request, data)
    response["Content-Type"] = content_type
    response["Accept-Ranges"] = "bytes"
    response["Cache-Control"] = "private, max-age=86400"
    return response


@require_GET
def trial_audio(request: HttpRequest, token: str, position: int) -> HttpResponse:
    """All of a trial's audio in one response (``delivery.trial_bundle``): what the player
    fetches, one request per trial. Served only during the trials, like each signal's audio."""
    audio = trial_files(token, position)
    if audio is None:
        raise Http404("no such trial in this session")
    if audio.stage != Stage.TRIALS:
        return _json_stage_error(audio.stage, "audio is served only during the trials")
    response = HttpResponse(trial_bundle(audio), content_type="application/octet-stream")
    response["Cache-Control"] = "private, max-age=86400"
    return response


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
