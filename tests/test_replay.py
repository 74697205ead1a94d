"""Reading a stream from its start in batches (runtime.replay), as the KPI rebuild does."""

import nats
import pytest

from runtime.replay import StreamReplay

pytestmark = pytest.mark.integration

STREAM = "REPLAY_TEST"


async def test_batches_come_in_stream_order_and_an_empty_one_means_caught_up(nats_server) -> None:
    nc = await nats.connect(nats_server.url)
    try:
        js = nc.jetstream()
        await js.add_stream(name=STREAM, subjects=["replay.>"])
        for i in range(10):
            await js.publish(f"replay.{i % 3}", str(i).encode(), headers={"Nats-Msg-Id": f"m{i}"})
        replay = await StreamReplay.open(nc, STREAM, "replay.>")

        batches = [[m.data for m in await replay.request(4)] for _ in range(4)]
        assert batches == [[b"0", b"1", b"2", b"3"], [b"4", b"5", b"6", b"7"], [b"8", b"9"], []]

        # A batch that takes exactly what is there is followed by an empty one, not a wait.
        await js.publish("replay.x", b"10")
        await js.publish("replay.x", b"11")
        assert [m.data for m in await replay.request(2)] == [b"10", b"11"]
        assert await replay.request(2) == []

        # The next batch may be requested while the previous one is being used.
        await js.publish("replay.x", b"12")
        pending = replay.request(5)
        assert [m.data for m in await pending] == [b"12"]
        await replay.close()
    finally:
        await nc.close()
