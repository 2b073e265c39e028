"""Bodies of ``/users/export/segment``, described field by field for the OpenAPI document."""

from pydantic import BaseModel, ConfigDict, Field

from kohorte.domain.segment_exports import FIELDS, FORMATS


class SegmentExportIn(BaseModel):
    model_config = ConfigDict(extra="ignore")

    segment_id: str = Field(
        description="The id of the segment whose members are exported.",
        json_schema_extra={"minLength": 1},
    )
    fields_to_export: list[str] = Field(
        description="Which fields each exported user has, a non-empty subset of "
        + ", ".join(FIELDS)
        + ".",
        json_schema_extra={"minItems": 1, "items": {"enum": list(FIELDS)}},
    )
    callback_endpoint: str | None = Field(
        default=None,
        description=(
            "A URL kohorte POSTs {success, url, object_prefix} to when the file is complete; "
            "its host must be one of KOHORTE_EXPORT_CALLBACK_HOSTS."
        ),
    )
    output_format: str | None = Field(
        default=None,
        description="gzip (default): one gzip-compressed NDJSON file; zip: one zip archive "
        "holding one NDJSON member.",
        json_schema_extra={"enum": list(FORMATS)},
    )


class SegmentExportStarted(BaseModel):
    message: str = Field(description='"success"')
    object_prefix: str = Field(description="The name the export's file is known by.")
    url: str = Field(
        description=(
            "Where the file can be downloaded without credentials once complete (404 until "
            "then); the link is the only secret, keep it as such."
        )
    )
