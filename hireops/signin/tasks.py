"""Thin tasks: primary keys in, the work in the service module."""

from celery import shared_task

from hireops.outbound.retry import run_retrying

from . import notices


@shared_task(name="signin.send_security_notice", bind=True, ignore_result=True)
def send_security_notice(self, notice_pk: int):
    return run_retrying(self, notices.send, notice_pk, notices.give_up)
