"""casetrack on a three-node JetStream cluster (issue 20): every stream on three nodes, the events
stream in four partitions (runtime/partitions.py), the services given every node. The node leading the events stream is killed with SIGKILL under a steady stream of
facts and started again; every accepted fact still reaches the store, the stream, the read models
and the alerts exactly once, and the services keep answering. Real processes throughout."""

import threading
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from contracts.events import EVENTS_STREAM
from tests.cluster_support import SecuredCluster
from tests.faults import FactStream
from tests.support import System
from tests.test_faults import assert_every_fact_once, run_for

pytestmark = pytest.mark.integration


@pytest.fixture
def nats_cluster(tmp_path: Path) -> Iterator[SecuredCluster]:
    cluster = SecuredCluster(tmp_path / "nats-cluster")
    try:
        cluster.start()
        yield cluster
    finally:
        cluster.stop()


@pytest.fixture
def nats_server(nats_cluster: SecuredCluster) -> SecuredCluster:
    """conftest's `system` runs on the cluster."""
    return nats_cluster


class Readers:
    """Asks the read side (`/v1/position` of projections and alerts) all along, counting answers."""

    def __init__(self, system: System):
        self.system, self.statuses, self._stop = system, Counter[object](), threading.Event()
        self.answered_at: list[float] = []  # when a 200 came
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> "Readers":
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._stop.set()
        self._thread.join(timeout=30)

    def longest_silence(self) -> float:
        """The longest time between two answers (200) while the readers asked."""
        times = self.answered_at
        return max((later - earlier for earlier, later in zip(times, times[1:], strict=False)), default=float("inf"))

    def _run(self) -> None:
        clients = [self.system.client(name, "token-admin") for name in ("projections", "alerts")]
        while not self._stop.is_set():
            for client in clients:
                try:
                    status = client.get("/v1/position").status_code
                    self.statuses[status] += 1
                    if status == 200:
                        self.answered_at.append(time.monotonic())
                except httpx.HTTPError as exc:
                    self.statuses[type(exc).__name__] += 1
            time.sleep(0.1)
        for client in clients:
            client.close()


def test_streams_have_three_replicas_on_the_cluster(nats_cluster: SecuredCluster) -> None:
    import asyncio

    import nats

    async def replicas() -> tuple[int, int]:
        nc = await nats.connect(nats_cluster.url)
        try:
            info = await nc.jetstream().stream_info(EVENTS_STREAM)
            assert info.cluster is not None
            return info.config.num_replicas or 0, 1 + len(info.cluster.replicas or [])
        finally:
            await nc.close()

    assert asyncio.run(replicas()) == (3, 3)


def test_events_stream_leader_killed_and_restarted_under_a_stream_of_facts(
    system: System, nats_cluster: SecuredCluster
) -> None:
    system.start()
    with Readers(system) as readers:
        stream = FactStream(system, rate=30).start()
        run_for(2.0)
        leader = nats_cluster.stream_leader()
        nats_cluster.nodes[leader].kill()  # SIGKILL, as a machine lost
        run_for(4.0)
        assert nats_cluster.stream_leader() != leader  # the other two elected a new leader
        nats_cluster.nodes[leader].start()
        run_for(2.0)
        stream.stop()

    assert stream.accepted > 100
    assert_every_fact_once(system, stream)
    # The read side answered all along: 200, or 503 (service_unavailable) while it could not.
    assert set(readers.statuses) <= {200, 503}, readers.statuses
    assert readers.longest_silence() < 5.0, readers.statuses


def test_a_service_connection_moves_to_another_node_when_its_node_dies(
    nats_cluster: SecuredCluster, monkeypatch: pytest.MonkeyPatch
) -> None:
    """runtime.bus.connect with a service's own URL and NATS_SERVERS: the node it is on killed with
    SIGKILL, it reconnects to another within seconds, as the same user, and JetStream answers."""
    import asyncio

    from casetrack import natsauth
    from runtime.bus import connect
    from tests.support import nats_passwords

    monkeypatch.setenv("NATS_SERVERS", nats_cluster.servers())
    own_url = natsauth.user_url(nats_cluster.first.url, "projections", nats_passwords()["projections"])

    def on(nc: object) -> str:
        url = getattr(nc, "connected_url", None)
        return url.netloc if url is not None and getattr(nc, "is_connected", False) else ""

    async def scenario() -> tuple[str, str, int]:
        nc = await connect(own_url, "projections")
        try:
            before = on(nc)
            next(n for n in nats_cluster.nodes.values() if n.url.endswith(before)).kill()
            deadline = time.monotonic() + 15
            while on(nc) in ("", before):
                assert time.monotonic() < deadline, "no reconnect to another node"
                await asyncio.sleep(0.1)
            for _ in range(60):  # the JetStream API answers once the streams' leaders are settled
                try:
                    info = await nc.jetstream(timeout=2).stream_info(EVENTS_STREAM)
                    return before, on(nc), info.config.num_replicas or 0
                except Exception:
                    await asyncio.sleep(0.25)
            raise AssertionError("JetStream did not answer after the reconnect")
        finally:
            await nc.close()

    before, after, replicas = asyncio.run(scenario())
    assert before and after and before != after
    assert replicas == 3
