"""The partition scheme of the events stream (runtime/partitions.py), without servers."""

from nats.js.api import StreamConfig

from runtime.partitions import PartitionedConsumers, consumer_name, events_transform, partitions_of, preferred_order

PARTITIONS = 4


def test_the_transform_puts_each_municipality_in_one_of_n_partitions() -> None:
    transform = events_transform(PARTITIONS)
    assert transform is not None
    assert transform.src == "casetrack.events.*.*"
    assert transform.dest == "casetrack.events.{{partition(4,1)}}.{{wildcard(1)}}.{{wildcard(2)}}"
    assert partitions_of(StreamConfig(subject_transform=transform)) == PARTITIONS
    assert partitions_of(StreamConfig()) == 0
    assert events_transform(0) is None
    assert consumer_name("alerts", 3) == "alerts-p3"
    # Every replica tries every partition once, replicas from different places.
    orders = [preferred_order(f"projections@host:{pid}", PARTITIONS) for pid in range(20)]
    assert all(sorted(order) == list(range(PARTITIONS)) for order in orders)
    assert len({order[0] for order in orders}) > 1


def test_a_replica_leads_at_most_its_share() -> None:
    consumers = PartitionedConsumers(js=None, database_url="", service="projections", appliers=dict.fromkeys(range(8)))  # type: ignore[arg-type]
    assert [consumers.share(replicas) for replicas in (0, 1, 2, 3, 8, 9)] == [8, 8, 4, 3, 1, 1]
    assert sorted(consumers.order) == list(range(8))
