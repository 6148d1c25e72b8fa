import socket

import pytest
from conftest import NetworkBlocked


def test_outgoing_connections_are_blocked():
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        with pytest.raises(NetworkBlocked):
            s.connect(("93.184.216.34", 80))
    finally:
        s.close()


def test_hub_is_offline():
    import os

    assert os.environ["HF_HUB_OFFLINE"] == "1"
