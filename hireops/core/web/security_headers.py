"""The browser's rules on every answer (docs/deployment.md, "Security headers"):
Content-Security-Policy through django-csp (Django 5.2 has none of its own), with Feishu's
sign-in added to form-action, and Permissions-Policy, which neither sends."""

from urllib.parse import urlsplit

from csp.middleware import CSPMiddleware, PolicyParts
from django.conf import settings

PERMISSIONS_POLICY = "Permissions-Policy"
# Feishu's (Lark's) authorize page hands the browser on to its other hosts (passport, accounts).
FEISHU_DOMAINS = ("feishu.cn", "larksuite.com")


def feishu_sign_in_sources() -> list[str]:
    """Where the "Sign in with Feishu" form ends up: FEISHU_LOGIN_BASE_URL's origin (the
    sandbox's in ./dev run and the tests) and, for Feishu itself, its domain's hosts."""
    base = urlsplit(getattr(settings, "FEISHU_LOGIN_BASE_URL", "") or "")
    if not (base.scheme and base.netloc):
        return []
    found = [f"{base.scheme}://{base.netloc}"]
    host = base.hostname or ""
    found += [f"https://*.{d}" for d in FEISHU_DOMAINS if host == d or host.endswith("." + d)]
    return found


class ContentSecurityPolicyMiddleware(CSPMiddleware):
    """django-csp's, its form-action (where the policy has one) also allowing Feishu's
    sign-in: the browser checks the form's redirects against it too. Read at every answer,
    as FEISHU_LOGIN_BASE_URL is (hireops.signin.adapters)."""

    def get_policy_parts(self, request, response, report_only: bool = False) -> PolicyParts:
        parts = super().get_policy_parts(request, response, report_only)
        setting = "CONTENT_SECURITY_POLICY_REPORT_ONLY" if report_only else "CONTENT_SECURITY_POLICY"
        configured = (getattr(settings, setting, None) or {}).get("DIRECTIVES", {})
        if "form-action" in (parts.config or configured):
            update = dict(parts.update or {})
            update["form-action"] = [*update.get("form-action", ()), *feishu_sign_in_sources()]
            parts.update = update
        return parts


def permissions_policy(policy: dict[str, list[str]]) -> str:
    """``camera=(), publickey-credentials-get=(self)``: "self" as it is, an origin quoted."""

    def member(origin: str) -> str:
        return origin if origin in ("self", "*") else f'"{origin}"'

    return ", ".join(f"{feature}=({' '.join(map(member, allowed))})" for feature, allowed in policy.items())


class PermissionsPolicyMiddleware:
    """``settings.PERMISSIONS_POLICY`` (feature → the origins allowed it; empty: none)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if PERMISSIONS_POLICY not in response:  # a view that set its own keeps it
            response[PERMISSIONS_POLICY] = permissions_policy(settings.PERMISSIONS_POLICY)
        return response
