"""Services are given one NATS server or a cluster's servers (runtime.bus.servers_and_credentials),
and the operator chooses how many nodes keep each stream (CASETRACK_STREAM_REPLICAS)."""

import pytest

from runtime.bus import servers_and_credentials, stream_replicas


def test_one_server_with_its_user() -> None:
    assert servers_and_credentials("nats://projections:p%40ss@nats:4222", "") == {
        "servers": ["nats://nats:4222"],
        "user": "projections",
        "password": "p@ss",
    }


def test_a_cluster_in_one_url_gets_the_first_user_everywhere() -> None:
    options = servers_and_credentials("nats://alerts:pw@n1:4222, nats://n2:4222,n3:4222", "")
    assert options == {
        "servers": ["nats://n1:4222", "nats://n2:4222", "nats://n3:4222"],
        "user": "alerts",
        "password": "pw",
    }


def test_nats_servers_adds_the_other_nodes_to_a_services_own_url(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NATS_SERVERS", "nats://nats:4222,nats://nats-2:4222,nats://nats-3:4222")
    assert servers_and_credentials("nats://relay:pw@nats:4222")["servers"] == [
        "nats://nats:4222",
        "nats://nats-2:4222",
        "nats://nats-3:4222",
    ]


def test_no_user_anonymous() -> None:
    assert servers_and_credentials("nats://127.0.0.1:4222", "")["user"] is None


def test_no_server_is_refused() -> None:
    with pytest.raises(ValueError):
        servers_and_credentials(" , ", "")


def test_stream_replicas_unset_or_checked(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CASETRACK_STREAM_REPLICAS", raising=False)
    assert stream_replicas() is None  # a new stream on one node, an existing one as it is
    monkeypatch.setenv("CASETRACK_STREAM_REPLICAS", "3")
    assert stream_replicas() == 3
    for bad in ("0", "7", "three"):
        monkeypatch.setenv("CASETRACK_STREAM_REPLICAS", bad)
        with pytest.raises(ValueError):
            stream_replicas()
