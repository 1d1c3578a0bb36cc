"""Staff sign-in: Feishu (OAuth web login), allauth's accounts and second factors."""

from .base import DEBUG, env
from .django import AUTHENTICATION_BACKENDS
from .feishu import FEISHU_APP_ID, FEISHU_APP_SECRET, FEISHU_APP_TYPE, FEISHU_BASE_URL

# docs/deployment.md, "Signing in with Feishu". The login app is the company's own self-built
# app (it may be the Hire app, never a vendor's store app). Sign-in with Feishu is offered once
# FEISHU_LOGIN_TENANTS names the tenant(s) whose members may use it; a Feishu identity then
# signs in only as the staff user it is linked to (an invitation, or the user's company email on
# first sign-in).
FEISHU_LOGIN_APP_ID = env.str(
    "FEISHU_LOGIN_APP_ID", default=FEISHU_APP_ID if FEISHU_APP_TYPE == "self_built" else ""
)
FEISHU_LOGIN_APP_SECRET = env.str(
    "FEISHU_LOGIN_APP_SECRET", default=FEISHU_APP_SECRET if FEISHU_APP_TYPE == "self_built" else ""
)
FEISHU_LOGIN_BASE_URL = env.str("FEISHU_LOGIN_BASE_URL", default=FEISHU_BASE_URL)
FEISHU_LOGIN_TENANTS = env.list("FEISHU_LOGIN_TENANTS", default=[])
FEISHU_LOGIN_INVITATION_DAYS = env.int("FEISHU_LOGIN_INVITATION_DAYS", default=7)
# A first second factor is added only by a session that proved more than the password
# (hireops.signin.enrolment): a sign-in with Feishu, or an enrolment link an administrator
# issued, within the last ENROLMENT_PROOF_MINUTES. A link works once, for ENROLMENT_LINK_HOURS.
ENROLMENT_PROOF_MINUTES = env.int("ENROLMENT_PROOF_MINUTES", default=15)
ENROLMENT_LINK_HOURS = env.int("ENROLMENT_LINK_HOURS", default=24)
# PASSWORD_LOGIN=0: the password form signs in only the superusers named in
# PASSWORD_LOGIN_BREAK_GLASS, so a leaver who loses Feishu loses hireops the same day.
PASSWORD_LOGIN = env.bool("PASSWORD_LOGIN", default=True)
PASSWORD_LOGIN_BREAK_GLASS = env.list("PASSWORD_LOGIN_BREAK_GLASS", default=[])

# allauth's backend, reading permissions as the project's backend does (one statement a page).
AUTHENTICATION_BACKENDS = [*AUTHENTICATION_BACKENDS, "hireops.core.auth.backends.SignInBackend"]
LOGIN_URL = "admin:login"
LOGIN_REDIRECT_URL = "admin:index"
ACCOUNT_ADAPTER = "hireops.signin.adapters.AccountAdapter"
ACCOUNT_LOGIN_METHODS = {"username"}
ACCOUNT_SIGNUP_FIELDS = ["username*", "password1*", "password2*"]
ACCOUNT_EMAIL_VERIFICATION = "none"
ACCOUNT_LOGOUT_REDIRECT_URL = "admin:login"
# allauth builds Feishu's redirect_uri with this protocol whatever the request's (feishu.md §16).
ACCOUNT_DEFAULT_HTTP_PROTOCOL = env.str("ACCOUNT_DEFAULT_HTTP_PROTOCOL", default="http" if DEBUG else "https")
SOCIALACCOUNT_ADAPTER = "hireops.signin.adapters.SocialAccountAdapter"
SOCIALACCOUNT_AUTO_SIGNUP = False
SOCIALACCOUNT_EMAIL_AUTHENTICATION = False
SOCIALACCOUNT_PROVIDERS = {
    "feishu": {
        "APP": {"client_id": FEISHU_LOGIN_APP_ID, "secret": FEISHU_LOGIN_APP_SECRET},
        "AUTHORIZE_URL": FEISHU_LOGIN_BASE_URL.rstrip("/") + "/open-apis/authen/v1/index",
    }
}
# What changes how someone signs in (recovery codes, authenticators, password, email) needs the
# second factor proven within this many seconds (hireops.signin.second_factor.fresh).
ACCOUNT_REAUTHENTICATION_TIMEOUT = 300
MFA_SUPPORTED_TYPES = ["totp", "recovery_codes", "webauthn"]
MFA_TOTP_ISSUER = "hireops"
# Security keys' name field labelled in the reader's language (allauth leaves it unlabelled).
MFA_FORMS = {
    "add_webauthn": "hireops.signin.security_key_forms.AddSecurityKeyForm",
    "edit_webauthn": "hireops.signin.security_key_forms.EditSecurityKeyForm",
}
# Security keys need a secure context: https, or http://localhost (which fido2 accepts as it is;
# browsers refuse an IP address such as 127.0.0.1). allauth's WEBAUTHN_ALLOW_INSECURE_ORIGIN
# would skip the origin check altogether, and nothing here needs it.
