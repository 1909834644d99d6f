"""Reads of the screening stage (``mushra.screening_stage``): what its page needs, and its audio.

Checked by the blinding tests like the trials' payload: the page gets the checks' kinds (which
the questions name anyway) and audio URLs by position, never which interval is the answer.
"""

import functools

from django.urls import reverse

from mushra.models import HeadphoneAnswer, Session
from mushra.screening_stage import TRIALS, check_kinds, check_trial
from synth_workers.audio import encode_audio
from synth_workers.audio.headphone_checks import calibration_noise


def screening_payload(session: Session) -> dict:
    """The calibration noise's URL (when the test sets the volume) and the headphone-check
    trials not answered yet, in the order they are taken (a reload resumes where it was)."""
    test = session.test
    token = session.token
    answered = set(HeadphoneAnswer.objects.filter(session=session).values_list("kind", "position"))
    trials = [
        {
            "kind": kind,
            "position": position,
            "audio": [
                reverse("mushra:screening-audio", args=[token, kind, position, interval])
                for interval in range(3)
            ],
        }
        for kind in check_kinds(test)
        for position in range(TRIALS)
        if (kind, position) not in answered
    ]
    calibrate = test.volume_calibration and not answered  # set once, before the first trial
    return {
        "calibration": reverse("mushra:calibration", args=[token]) if calibrate else None,
        "trials": trials,
        "total": TRIALS * len(check_kinds(test)),
        "answer_url": reverse("mushra:screening", args=[token]),
        "done_url": reverse("mushra:session", args=[token]),
    }


def check_audio(session: Session, kind: str, position: int, interval: int) -> bytes:
    return encode_audio(
        check_trial(session, kind, position).intervals[interval], fmt="wav", subtype="PCM_16"
    )


@functools.cache  # the same noise for every listener: built once per process
def calibration_audio() -> bytes:
    return encode_audio(calibration_noise(), fmt="wav", subtype="PCM_16")
