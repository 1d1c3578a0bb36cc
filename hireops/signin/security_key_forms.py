"""allauth's security-key forms as this project shows them (``MFA_FORMS``). A module of their
own: allauth's WebAuthn forms import fido2, which reads the public suffix list when it is
imported (a twentieth of a process's start), and allauth imports these by their dotted path
only when a security-key page needs them, where the other sign-in forms load with the admin."""

from allauth.mfa.webauthn.forms import AddWebAuthnForm, EditWebAuthnForm
from django import forms
from django.utils.translation import gettext_lazy as _


class _LabelledKeyName:
    """allauth's security-key forms leave their ``name`` field unlabelled, so Django labels it
    "Name" from the attribute, in English whatever the reader's language."""

    fields: dict[str, forms.Field]  # the form's it is mixed in front of

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["name"].label = _("Name of the security key")


class AddSecurityKeyForm(_LabelledKeyName, AddWebAuthnForm):
    pass


class EditSecurityKeyForm(_LabelledKeyName, EditWebAuthnForm):
    pass
