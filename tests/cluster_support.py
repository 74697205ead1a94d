"""The three-node JetStream cluster of the cluster tests: casetrack's users and permissions on every
node, the streams provisioned with three replicas, the services given every node."""

import asyncio
import time
from pathlib import Path

import nats

from casetrack import natsauth
from casetrack.cli import provision_streams
from casetrack.embedded import EmbeddedNats, EmbeddedServerError
from casetrack.natscluster import NatsCluster
from contracts.events import EVENTS_STREAM
from tests.support import _nats_hashes, nats_passwords


class SecuredCluster(NatsCluster):
    """`partitions`: of the events stream (runtime/partitions.py), as the cluster deployment has them."""

    def __init__(self, data_dir: Path, partitions: int = 4):
        super().__init__(data_dir, natsauth.authorization_config(_nats_hashes()))
        self.partitions = partitions

    def start(self, timeout: float = 30.0) -> None:
        super().start(timeout)
        self.wait_for_meta_leader(timeout)
        provision_streams(self.url, replicas=len(self.nodes), partitions=self.partitions)

    @property
    def first(self) -> EmbeddedNats:
        return next(iter(self.nodes.values()))

    @property
    def url(self) -> str:
        """The operator's URL on a running node (tests inspect the streams with it)."""
        node = next(n for n in self.nodes.values() if n.pid is not None)
        return natsauth.user_url(node.url, natsauth.ADMIN, nats_passwords()[natsauth.ADMIN])

    def service_env(self) -> dict[str, str]:
        """Each service's own user on the first node, and every node in NATS_SERVERS: a service
        reaches the cluster through whichever node answers."""
        first = self.first.url
        return {"NATS_URL": first, "NATS_SERVERS": self.servers()} | natsauth.service_env(first, nats_passwords())

    def wait_for_meta_leader(self, timeout: float) -> None:
        async def ready() -> bool:
            nc = await nats.connect(self.url, allow_reconnect=False, connect_timeout=2)
            try:
                await nc.jetstream(timeout=2).account_info()
                return True
            except Exception:  # no JetStream meta leader yet: 503, no responders or a timeout
                return False
            finally:
                await nc.close()

        deadline = time.monotonic() + timeout
        while not asyncio.run(ready()):
            if time.monotonic() > deadline:
                raise EmbeddedServerError(f"the JetStream cluster elected no leader within {timeout:.0f}s")
            time.sleep(0.25)

    def stream_leader(self, stream: str = EVENTS_STREAM) -> str:
        """The name of the node leading `stream` (its replicas' RAFT leader)."""

        async def leader() -> str | None:
            nc = await nats.connect(self.url, allow_reconnect=False, connect_timeout=2)
            try:
                info = await nc.jetstream(timeout=2).stream_info(stream)
                return info.cluster.leader if info.cluster else None
            except Exception:  # no leader just now (an election under way): asked again
                return None
            finally:
                await nc.close()

        deadline = time.monotonic() + 30
        while (name := asyncio.run(leader())) is None:
            if time.monotonic() > deadline:
                raise AssertionError(f"{stream} has no leader")
            time.sleep(0.25)
        return name
