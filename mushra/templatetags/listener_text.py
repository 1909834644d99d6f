"""Template filters of the listener's pages: a test's texts in the interface language."""

from django import template

from mushra.i18n import shown_consent, shown_question

register = template.Library()

register.filter("shown_question", shown_question)
register.filter("shown_consent", shown_consent)
