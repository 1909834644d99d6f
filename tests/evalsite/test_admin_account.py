"""The scientist admin account that `make demo` makes: created once, never locked out."""

from django.contrib.auth import authenticate as django_authenticate
from django.test import RequestFactory

from evalsite.services import SCIENTISTS_GROUP, admin_account_ensure


def authenticate(**credentials):
    """As the admin's login form does: with the request (django-axes throttles per address)."""
    return django_authenticate(RequestFactory().post("/admin/login/"), **credentials)


def test_new_account_gets_a_random_password_that_works(db):
    account = admin_account_ensure(username="lab")
    assert account.created and account.password and len(account.password) >= 12
    user = authenticate(username="lab", password=account.password)
    assert user is not None and user.is_staff and user.is_superuser
    assert user.groups.filter(name=SCIENTISTS_GROUP).exists()


def test_second_run_keeps_the_password_unless_one_is_given(db):
    first = admin_account_ensure(username="lab")
    again = admin_account_ensure(username="lab")
    assert not again.created and again.password is None
    assert authenticate(username="lab", password=first.password) is not None

    reset = admin_account_ensure(username="lab", password="a-new-long-passphrase")
    assert reset.password == "a-new-long-passphrase"
    assert authenticate(username="lab", password=first.password) is None
    assert authenticate(username="lab", password="a-new-long-passphrase") is not None
