"""Rows for the tests that need them but do not test the service that makes them (factory_boy).

A test of an import, a registration, a synthesis or a preparation goes through that service;
other tests make their rows here. ``ReadyStimulusFactory`` makes a ready stimulus from a small
tone: the source is stored as an import stores it, and its preparation is the real one,
computed once per test session (tests/support/prepared_audio.py).
"""

from pathlib import PurePath

import factory
from django.utils.text import slugify
from factory.django import DjangoModelFactory

from evalsite.models import Project
from mushra.models import ListeningTest
from synth_workers import audio
from synth_workers.models import Corpus, Stimulus, SynthesisJob, System, Utterance
from synth_workers.services.preparation import current_policy, policy_as_dict, stimulus_key
from synth_workers.services.storage import CheckedAudio, NewFiles
from tests.support.audio import tone
from tests.support.prepared_audio import SESSION


class ProjectFactory(DjangoModelFactory):
    class Meta:
        model = Project

    name = factory.Sequence(lambda n: f"Lab {n}")
    slug = factory.LazyAttribute(lambda o: slugify(o.name))


class SystemFactory(DjangoModelFactory):
    """A checkpoint of the built-in espeak-ng voice unless a trait says otherwise."""

    class Meta:
        model = System

    class Params:
        recording = factory.Trait(kind=System.Kind.RECORDING, backend="")
        rendered = factory.Trait(kind=System.Kind.RENDERED, backend="")

    name = factory.Sequence(lambda n: f"System {n}")
    slug = factory.LazyAttribute(lambda o: slugify(o.name))
    kind = System.Kind.CHECKPOINT
    backend = "espeak-ng"


class CorpusFactory(DjangoModelFactory):
    class Meta:
        model = Corpus

    name = factory.Sequence(lambda n: f"Corpus {n}")


class UtteranceFactory(DjangoModelFactory):
    class Meta:
        model = Utterance

    corpus = factory.SubFactory(CorpusFactory)
    key = factory.Sequence(lambda n: f"u{n}")
    text = "Hello there."
    language = "en"


class StimulusFactory(DjangoModelFactory):
    """A pending stimulus under the current policy, without a source."""

    class Meta:
        model = Stimulus

    system = factory.SubFactory(SystemFactory, rendered=True)
    utterance = factory.SubFactory(UtteranceFactory)
    condition = factory.LazyFunction(dict)
    condition_key = factory.LazyAttribute(lambda o: stimulus_key(o.condition))
    policy = factory.LazyFunction(lambda: policy_as_dict(current_policy()))
    policy_key = factory.LazyFunction(lambda: current_policy().key())


def stored_tone(**kwargs) -> str:
    """A tone (tests.support.audio.tone's arguments) stored as an import stores a source."""
    clip = audio.Audio(tone(**kwargs), kwargs.get("rate", 16000))
    return NewFiles().store(CheckedAudio.of(audio.encode_audio(clip, fmt="wav")))


class ReadyStimulusFactory(StimulusFactory):
    """A ready stimulus whose source is a 1.5 s tone (``freq``, ``seed``); a recording's
    (``system__kind=System.Kind.RECORDING``) comes with its two anchors, as preparation makes
    them."""

    class Meta:
        skip_postgeneration_save = True  # the hook leaves the row as preparation wrote it

    class Params:
        freq = 220.0
        seed = 0

    source = factory.LazyAttribute(lambda o: stored_tone(seconds=1.5, freq=o.freq, seed=o.seed))
    source_sha256 = factory.LazyAttribute(lambda o: PurePath(o.source).stem)

    @factory.post_generation
    def prepared(obj, create, extracted, **kwargs):
        if create:
            SESSION.make_ready(Stimulus.objects.filter(pk=obj.pk))
            obj.refresh_from_db()


class ListeningTestFactory(DjangoModelFactory):
    """A draft test row; ``mushra.services`` builds a test that can open."""

    class Meta:
        model = ListeningTest

    name = factory.Sequence(lambda n: f"Test {n}")
    slug = factory.Sequence(lambda n: f"test-{n}")
    corpus = factory.SubFactory(CorpusFactory)
    project = factory.SelfAttribute("corpus.project")


class SynthesisJobFactory(DjangoModelFactory):
    class Meta:
        model = SynthesisJob

    system = factory.SubFactory(SystemFactory)
    corpus = factory.SubFactory(CorpusFactory)
    project = factory.SelfAttribute("corpus.project")
