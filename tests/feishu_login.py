"""Sign-in with Feishu pointed at the sandbox: the set-up the client tests (tests/signin) and
the browser tests (tests/browser/test_signin.py) share."""


def point_feishu_login_at_the_sandbox(sandbox, settings, site: str) -> None:
    """The sandbox's demo company as the only tenant, the Hire app (self-built) as the login
    app, and ``site`` (scheme and host, as allauth builds the callback from them) registered as
    its redirect URI: Feishu, like the sandbox, sends codes only to registered ones."""
    sandbox.register_login_app(
        settings.FEISHU_APP_ID, redirect_uris=[f"{site}/accounts/feishu/login/callback/"]
    )
    settings.FEISHU_LOGIN_BASE_URL = sandbox.url
    settings.FEISHU_LOGIN_TENANTS = ["demo-tenant"]
    settings.SOCIALACCOUNT_PROVIDERS = {
        "feishu": {
            "APP": {"client_id": settings.FEISHU_APP_ID, "secret": settings.FEISHU_APP_SECRET},
            "AUTHORIZE_URL": sandbox.url + "/open-apis/authen/v1/index",
        }
    }


# The sandbox directory's employees the tests sign in as.
WANG_FANG = "ou_demo1001"  # demo-tenant, company mailbox fang.wang@demo.example.com
LI_NA = "ou_demo1002"  # demo-tenant, na.li@demo.example.com
SUN_LI = "ou_acme2001"  # acme-tenant: another company


def wang_fang_as_staff(staff_user, *roles):
    """王芳 as hireops staff in ``roles``: her email is her Feishu company mailbox, so she is
    linked on her first sign-in with Feishu (she has a hireops password too)."""
    user = staff_user(*roles, username="fang")
    user.email = "fang.wang@demo.example.com"
    user.save()
    return user
