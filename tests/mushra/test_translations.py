"""The listener interface's catalogues: complete in every language, and current with the sources.

Adding a {% translate %} string, a gettext() call in the player, or a marked Python message
without extracting and translating it (`make messages`, then each locale/<lang>/…/*.po) fails
here."""

import pytest

from tests.support.i18n import DOMAINS, LANGS, catalogue, marked_strings, placeholders


@pytest.mark.parametrize("domain", DOMAINS)
@pytest.mark.parametrize("lang", LANGS)
def test_every_entry_is_translated_with_the_same_placeholders(lang, domain):
    problems = []
    for entry in catalogue(lang, domain):
        if entry.obsolete:
            continue
        label = f"{lang}/{domain}: {entry.msgid!r}"
        if entry.fuzzy:
            problems.append(f"{label} is fuzzy")
        if entry.msgid_plural:
            forms = entry.msgstr_plural.values()
            want = [placeholders(entry.msgid), placeholders(entry.msgid_plural)]
            if not forms or not all(forms):
                problems.append(f"{label} lacks a plural form")
            problems += [
                f"{label}: {f!r} changes placeholders" for f in forms if placeholders(f) not in want
            ]
        elif not entry.msgstr:
            problems.append(f"{label} is not translated")
        elif placeholders(entry.msgstr) != placeholders(entry.msgid):
            problems.append(f"{label}: {entry.msgstr!r} changes placeholders or tags")
    assert not problems, "\n".join(problems)


def test_the_sources_mark_strings_in_both_domains():
    marked = marked_strings()
    # A guard for the extractor itself: it must find what the tests below rely on.
    assert (None, "I agree — continue") in marked["django"]  # a template
    assert (None, "Practice") in marked["django"]  # Python (mushra.selectors)
    assert ("quality scale", "Excellent") in marked["djangojs"]  # the player's scale
    assert any(msgid.startswith("Listen to the reference") for _, msgid in marked["djangojs"])


@pytest.mark.parametrize("domain", DOMAINS)
@pytest.mark.parametrize("lang", LANGS)
def test_every_marked_string_is_in_the_catalogue(lang, domain):
    entries = {(e.msgctxt, e.msgid) for e in catalogue(lang, domain) if not e.obsolete}
    missing = sorted(marked_strings()[domain] - entries, key=str)
    assert not missing, (
        f"not in locale/{lang}/LC_MESSAGES/{domain}.po (run `make messages`): {missing}"
    )
