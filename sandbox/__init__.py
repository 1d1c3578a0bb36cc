"""Feishu sandbox: an emulator of the Feishu OpenAPI and event pushes hireops uses.

Run it with ``python manage.py feishu_sandbox`` and drive it with
``python manage.py feishu_sandbox_ctl`` or ``sandbox.control.SandboxControl``.
The spec is docs/feishu.md; where it is silent the code says "CHOICE".

Modules: server (lifecycle, faults, request log), handler (HTTP plumbing),
state (tenants, tokens, directory, accounts, fields), clock (settable time for
expiry and Feishu's timestamps), auth_api, hire_api
(custom fields), referral_api, bot_api (custom group bots' webhooks), ratelimit,
events (pusher), control (control API + client), persistence (the state kept in a file
across restarts, ./dev run's), data/directory.json (seed directory).
"""
