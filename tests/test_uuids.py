import random
import uuid

from services.registration.domain.uuids import uuid5


def test_the_same_uuids_as_the_standard_library() -> None:
    rng = random.Random(21)
    namespaces = [uuid.NAMESPACE_URL, uuid.UUID(int=0), uuid.UUID(int=2**128 - 1)]
    namespaces += [uuid.UUID(int=rng.getrandbits(128)) for _ in range(50)]
    names = ["", "1", "101:bench-7", "æøå:ß", *(str(rng.getrandbits(64)) for _ in range(50))]
    for namespace in namespaces:
        for name in names:
            ours, theirs = uuid5(namespace, name), uuid.uuid5(namespace, name)
            assert ours == theirs and str(ours) == str(theirs) and hash(ours) == hash(theirs)
            assert ours.version == 5 and ours.variant == uuid.RFC_4122 and ours.is_safe == theirs.is_safe
