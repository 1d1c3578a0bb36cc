import pytest

from hireops.webhooks import endpoints

from . import receiver as receivers


@pytest.fixture
def receiver():
    found, server = receivers.start()
    yield found
    server.shutdown()
    server.server_close()


@pytest.fixture
def endpoint(db, receiver):
    """An endpoint for every event with every data scope, pointed at the receiver; ``.secret``."""
    made, secret = endpoints.create(url=receiver.url, description="partner", scopes=endpoints.data_scopes())
    made.secret_text = secret
    return made
