"""Why a request got no answer, as the fact a person reads in their own words ("no answer:
could not connect", "无应答：无法连接"), never the exception's class name ("ConnectionError").

``why(exc)`` is the fact for a ``requests`` exception (a msgid to store in a Message, read in
each reader's language). Rows stored before kept the class name in English inside their text
("no answer (ConnectionError)"): ``upgrade`` (CoreConfig.ready) has them read as the fact too.
"""

import requests
from django.utils.translation import gettext_noop

from .messages import Message, upgraded

NO_ANSWER_IN_TIME = gettext_noop("no answer in time")
NO_ANSWER_BECAUSE = gettext_noop("no answer: %(why)s")
COULD_NOT_CONNECT = gettext_noop("could not connect")
NO_SECURE_CONNECTION = gettext_noop("could not set up a secure connection")
ANSWER_BROKE_OFF = gettext_noop("the answer broke off")
REQUEST_FAILED = gettext_noop("the request failed")
COULD_NOT_REACH_BOT = gettext_noop("could not reach the bot: %(why)s")

# The classes' names rows stored before hold, by the fact each says.
_BY_NAME = {
    "ConnectionError": COULD_NOT_CONNECT,
    "ProxyError": COULD_NOT_CONNECT,
    "SSLError": NO_SECURE_CONNECTION,
    "ChunkedEncodingError": ANSWER_BROKE_OFF,
    "ContentDecodingError": ANSWER_BROKE_OFF,
    "ReadError": ANSWER_BROKE_OFF,
}


def why(exc: BaseException) -> str:
    """The fact behind ``exc`` (a msgid), most particular first: an SSLError is a ConnectionError."""
    if isinstance(exc, requests.exceptions.SSLError):
        return NO_SECURE_CONNECTION
    if isinstance(exc, requests.ConnectionError):
        return COULD_NOT_CONNECT
    if isinstance(exc, (requests.exceptions.ChunkedEncodingError, requests.exceptions.ContentDecodingError)):
        return ANSWER_BROKE_OFF
    return REQUEST_FAILED


def no_answer(exc: BaseException) -> Message:
    """ "no answer: could not connect", in each reader's language."""
    return Message(NO_ANSWER_BECAUSE, why=Message(why(exc)))


def _fact(name: object) -> Message:
    return Message(_BY_NAME.get(str(name), REQUEST_FAILED))


def upgrade() -> None:
    """Rows stored with an exception's name read as the fact."""
    upgraded(
        "no answer (%(error)s)",
        lambda params: Message(NO_ANSWER_BECAUSE, why=_fact(params.get("error"))),
    )
    upgraded("no answer in time (%(error)s)", lambda params: Message(NO_ANSWER_IN_TIME))
    upgraded(
        "could not reach the bot (%(error)s)",
        lambda params: Message(COULD_NOT_REACH_BOT, why=_fact(params.get("error"))),
    )
