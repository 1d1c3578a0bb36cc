import pytest
from allauth.mfa.recovery_codes.internal.auth import RecoveryCodes

from tests.conftest import STAFF_PASSWORD
from tests.second_factor import give_totp


@pytest.fixture
def root(django_user_model):
    """A superuser with an authenticator app (its secret in ``totp_secret``) and recovery codes,
    as the app's activation leaves them, and an email address to be told at."""
    user = django_user_model.objects.create_superuser("root", "root@example.com", STAFF_PASSWORD)
    user.totp_secret = give_totp(user)
    RecoveryCodes.activate(user)
    return user
