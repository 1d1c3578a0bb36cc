"""Signed webhooks to the partners' systems (Standard Webhooks v1): what happened, pushed.

The path of one event:

1. An app changes something and, in the same transaction, calls ``emit(type, subject)``: the
   event (``WebhookEvent``, the outbox) and one ``WebhookDelivery`` per endpoint that wants it
   are written with the change, or rolled back with it.
2. After the commit each delivery's task is queued (the ``webhooks`` queue); the outbound
   engine claims the row, signs the body (``signing``), posts it to an address checked not to
   be private (``addresses``, at save and again on the connection itself), and records the
   attempt (``DeliveryAttempt``).
3. A failure is tried again with the same ``webhook-id`` on the specification's schedule
   (``delivery.SCHEDULE``): short waits in Celery, long ones parked on the row
   (``next_attempt_at``) for the sweep that runs every few seconds. ``410 Gone`` disables the
   endpoint; so does failing every attempt for ``WEBHOOK_DISABLE_AFTER_DAYS``.

Event types are declared by the apps that own their objects, in ``<app>/webhook_events.py``
(``events.declare``): the data is the object as the API's ``GET`` answers it.
"""
