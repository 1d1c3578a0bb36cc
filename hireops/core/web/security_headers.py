"""The browser's rules on every answer (docs/deployment.md, "Security headers"):
Content-Security-Policy through django-csp (Django 5.2 has none of its own), with Feishu's
sign-in added to form-action, and Permissions-Policy, which neither sends."""

from urllib.parse import urlsplit

from csp.constants import HEADER
from csp.middleware import CSPMiddleware, PolicyParts
from django.conf import settings
from django.http import HttpRequest
from django.http.response import HttpResponseBase

PERMISSIONS_POLICY = "Permissions-Policy"
# A JSON document (the partner API's answers and problems, the admin's autocomplete) is data a
# browser loads and runs nothing from: the strictest policy, never framed. Fixed, rather than
# the pages' policy built again for every answer (a fair part of a short API answer's cost).
JSON_POLICY = "default-src 'none'; frame-ancestors 'none'"
JSON_TYPES = ("application/json", "application/problem+json")
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
    as FEISHU_LOGIN_BASE_URL is (hireops.signin.adapters). A JSON answer carries
    ``JSON_POLICY`` instead."""

    def process_response(self, request: HttpRequest, response: HttpResponseBase) -> HttpResponseBase:
        if response.get("Content-Type", "").startswith(JSON_TYPES):
            response.setdefault(HEADER, JSON_POLICY)  # a view that set its own keeps it
            return response
        return super().process_response(request, response)

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
        self._written: tuple[object, str] = (None, "")  # the setting, and its header

    def __call__(self, request):
        response = self.get_response(request)
        if PERMISSIONS_POLICY not in response:  # a view that set its own keeps it
            response[PERMISSIONS_POLICY] = self._header()
        return response

    def _header(self) -> str:
        """Written again only when the setting is another object (a settings change)."""
        policy = settings.PERMISSIONS_POLICY
        written = self._written
        if written[0] is not policy:
            written = self._written = (policy, permissions_policy(policy))
        return written[1]
