"""hireops's platform: the layers under the apps (core, ops, tenants, events, jobs, signin, api,
webhooks) and the Feishu client. The composition root that assembles them with the apps
(settings, URLs, the Celery app, the servers' entry points) is the top-level ``config``
package; importing a module of this one never loads it.
"""
