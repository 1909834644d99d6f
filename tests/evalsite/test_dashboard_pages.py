"""The scientist's pages beyond the admin: the dashboard, a system's page, a corpus' page, the
section bar and the test builder's steps, for each role (tests/evalsite/test_access.py walks the
status codes of every role × own/other project)."""

import re
import secrets

from django.db import connection
from django.test.utils import CaptureQueriesContext

from evalsite.services import project_create
from mushra.models import Condition, Session
from synth_workers.models import CheckpointFile, System, Utterance
from tests.support.factories import (
    CorpusFactory,
    ListeningTestFactory,
    StimulusFactory,
    SynthesisJobFactory,
    SystemFactory,
    UtteranceFactory,
)
from tests.support.roles import login_client


def _section(page: str, project: str) -> str:
    """The dashboard's section of one project."""
    match = re.search(
        rf'<section class="project"[^>]*data-project="{project}">(.*?)</section>', page, re.S
    )
    assert match, f"no section for {project}"
    return match.group(1)


def test_the_dashboard_shows_each_of_my_projects_with_what_it_holds(world):
    users, objects = world
    page = login_client(users, "viewer").get("/dashboard/").content.decode()
    lab_a = _section(page, "Lab A")
    own = objects["own"]
    assert f'href="/synthesis/systems/{System.objects.get(name="Alpha-TTS").pk}/"' in lab_a
    assert f'href="/synthesis/corpora/{own["corpus"].pk}/"' in lab_a
    assert f'href="/synthesis/jobs/{own["job"].pk}/"' in lab_a
    assert f'href="/mushra/tests/{own["test"].pk}/"' in lab_a
    assert "data-role>viewer<" in lab_a
    assert "<progress" in lab_a and "usable" in lab_a
    assert "Lab B" not in page and "Beta-TTS" not in page


def test_the_dashboard_offers_actions_to_editors_only(world):
    users, objects = world
    corpus = objects["own"]["corpus"]
    new_test = f'href="/mushra/new/?corpus={corpus.pk}"'
    audition = f'href="/synthesis/corpora/{corpus.pk}/audition/"'
    for role, offered in [("viewer", False), ("editor", True), ("owner", True)]:
        lab_a = _section(login_client(users, role).get("/dashboard/").content.decode(), "Lab A")
        assert (new_test in lab_a) == offered, role
        assert (audition in lab_a) == offered, role


def test_a_user_without_projects_is_told_how_to_get_one(django_user_model, client):
    client.force_login(django_user_model.objects.create_user("new", password="pw"))
    assert 'id="no-projects"' in client.get("/dashboard/").content.decode()


def _fill(project, n: int) -> None:
    """`n` systems, corpora (with utterances), jobs and tests (with a condition and a session)."""
    for _ in range(n):
        system = SystemFactory(project=project, usable=False, check_error=System.CHECK_PENDING)
        corpus = CorpusFactory(project=project, recordings=system)
        UtteranceFactory(corpus=corpus)
        SynthesisJobFactory(system=system, corpus=corpus, total=2)
        test = ListeningTestFactory(corpus=corpus)
        Condition.objects.create(test=test, label="A", system=system, role="system")
        Session.objects.create(test=test, token=secrets.token_urlsafe(8), number=1, seed=1)


def _dashboard_queries(client) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get("/dashboard/").status_code == 200
    return len(queries)


def test_the_dashboard_reads_in_as_many_queries_for_five_rows_as_for_one(django_user_model, client):
    user = django_user_model.objects.create_user("busy", password="pw")
    client.force_login(user)
    first = project_create(name="First", owner=user)
    _fill(first, 1)
    one = _dashboard_queries(client)
    _fill(first, 4)
    _fill(project_create(name="Second", owner=user), 5)
    page = client.get("/dashboard/").content.decode()
    assert page.count('data-system="') == 10 and page.count('data-test="') == 10
    assert "checking" in page
    assert _dashboard_queries(client) == one


def _checkpoint(project, **fields) -> System:
    system = SystemFactory(
        name="Orca-TTS", backend="piper", project=project, capabilities=["speaker", "style"],
        **fields,
    )  # fmt: skip
    CheckpointFile.objects.create(
        system=system, role="model", file="checkpoints/orca.onnx", sha256="ab" * 32, size=2048
    )
    return system


def test_a_system_page_shows_its_files_jobs_and_stimuli(world):
    users, objects = world
    own = objects["own"]
    system = _checkpoint(own["project"], usable=False, check_error="CUDA out of memory")
    job = SynthesisJobFactory(system=system, corpus=own["corpus"])
    utterances = list(own["corpus"].utterances.order_by("key"))
    StimulusFactory(system=system, utterance=utterances[0], status="failed", error="no such voice")
    StimulusFactory(system=system, utterance=utterances[1])
    page = login_client(users, "viewer").get(f"/synthesis/systems/{system.pk}/").content.decode()
    assert "piper" in page and "<code>speaker</code>" in page and "Lab A" in page
    assert "check error" in page and "CUDA out of memory" in page
    assert "ab" * 32 in page and "2.0\xa0KB" in page and "model" in page
    assert f'href="/synthesis/jobs/{job.pk}/"' in page
    counts = re.search(r'id="stimulus-counts">(.*?)</p>', page, re.S).group(1)
    assert (
        re.sub(r"<[^>]+>", "", counts).split()
        == "Waiting for preparation: 1 Ready: 0 Failed: 1".split()
    )
    rows = re.findall(r"<tr><td>(item\d)</td>", page)
    assert rows == ["item0", "item1"] and "no such voice" in page


def test_a_system_being_checked_says_so(world):
    users, objects = world
    system = _checkpoint(objects["own"]["project"], usable=False, check_error=System.CHECK_PENDING)
    page = login_client(users, "viewer").get(f"/synthesis/systems/{system.pk}/").content.decode()
    assert ">checking<" in page and 'id="check-error"' not in page


def test_a_corpus_page_lists_its_utterances_a_hundred_at_a_time(world):
    users, objects = world
    corpus = objects["own"]["corpus"]
    Utterance.objects.bulk_create(
        Utterance(corpus=corpus, key=f"z{i:03}", text=f"Line {i}.", language="de", speaker="anna")
        for i in range(148)
    )  # 150 with the two of the fixture
    client = login_client(users, "editor")
    first = client.get(f"/synthesis/corpora/{corpus.pk}/").content.decode()
    assert first.count("<tr><td>") == 100 and "Page 1 of 2" in first
    assert "<td>item0</td><td>Sentence number 0.</td>" in first
    assert re.search(r"<td>item0</td>.*?<td>no</td><td>yes</td></tr>", first, re.S)  # recording
    last = client.get(f"/synthesis/corpora/{corpus.pk}/?page=2").content.decode()
    assert last.count("<tr><td>") == 50 and "<td>z147</td>" in last and "anna" in last
    assert f'href="/synthesis/corpora/{corpus.pk}/audition/"' in first
    assert f'href="/mushra/new/?corpus={corpus.pk}"' in first
    viewer = login_client(users, "viewer").get(f"/synthesis/corpora/{corpus.pk}/").content.decode()
    assert f'href="/mushra/new/?corpus={corpus.pk}"' not in viewer


def test_the_section_bar_marks_where_i_am_and_shows_admin_to_staff_only(world):
    users, objects = world
    client = login_client(users, "editor")
    current = re.compile(r'id="nav-([\w-]+)" aria-current="page"')
    pages = {
        "/dashboard/": "dashboard",
        "/projects/": "projects",
        "/mushra/new/": "new-test",
        "/tokens/": "tokens",
        f"/synthesis/corpora/{objects['own']['corpus'].pk}/": "dashboard",
        f"/mushra/tests/{objects['own']['test'].pk}/": "dashboard",
    }
    for url, section in pages.items():
        page = client.get(url).content.decode()
        assert current.findall(page) == [section], url
        assert 'id="site-user"' in page and 'id="nav-admin"' not in page
    users["editor"].is_staff = True
    users["editor"].save()
    assert 'id="nav-admin"' in login_client(users, "editor").get("/dashboard/").content.decode()


def _steps(page: str) -> tuple[list[str], list[str]]:
    """The builder's step names, and those marked current."""
    steps = re.search(r'<ol class="wizard-steps".*?</ol>', page, re.S).group(0)
    names = [re.sub(r"<[^>]+>", "", li) for li in re.findall(r"<li[^>]*>(.*?)</li>", steps)]
    current = re.findall(r'<li data-step="(\d)" aria-current="step"', steps)
    return names, current


def test_the_test_builder_shows_its_steps_from_corpus_to_open(world):
    users, objects = world
    client = login_client(users, "editor")
    corpus = objects["own"]["corpus"]
    choose = client.get("/mushra/new/").content.decode()
    assert _steps(choose) == (["Corpus", "Conditions", "Options", "Preview", "Open"], ["1"])
    assert f'id="choose-corpus-{corpus.pk}"' in choose
    form = client.get(f"/mushra/new/?corpus={corpus.pk}").content.decode()
    assert _steps(form)[1] == ["2", "3"]  # one form holds both
    conditions, options = form.split('id="step-options"')
    assert 'name="conditions"' in conditions and 'name="anchor_low"' in conditions
    assert 'name="name"' in options and 'name="ratings_wanted"' in options
    assert 'id="create-draft"' in options
    objects["own"]["test"].status = "draft"
    objects["own"]["test"].save()
    draft = client.get(f"/mushra/tests/{objects['own']['test'].pk}/").content.decode()
    assert _steps(draft)[1] == ["4", "5"]
    assert 'id="preview-test"' in draft and 'id="open-test"' in draft
    viewer = login_client(users, "viewer").get(f"/mushra/tests/{objects['own']['test'].pk}/")
    assert "wizard-steps" not in viewer.content.decode()  # viewers build nothing
    opened = client.get(f"/mushra/tests/{objects['other']['test'].pk}/")
    assert opened.status_code == 404
    own_open = objects["own"]["test"]
    own_open.status = "open"
    own_open.save()
    assert "wizard-steps" not in client.get(f"/mushra/tests/{own_open.pk}/").content.decode()
