"""Value types the services' response models share, so their OpenAPI documents say what the JSON
holds without the models changing it."""

from typing import Annotated

from pydantic import Field, WithJsonSchema

# A moment as the services write it (datetime.isoformat(), with its offset): kept as the string it
# is, so a response model does not rewrite "+00:00" as "Z".
Timestamp = Annotated[str, Field(json_schema_extra={"format": "date-time"}, examples=["2026-03-01T09:30:00+00:00"])]

# A count or a measure: an integer stays an integer in the JSON (a float field would turn 3 into 3.0).
Number = Annotated[int | float, WithJsonSchema({"type": "number"})]
