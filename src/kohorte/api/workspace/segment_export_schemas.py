"""Bodies of ``/users/export/segment``, described field by field for the OpenAPI document."""

from pydantic import BaseModel, ConfigDict, Field


class SegmentExportIn(BaseModel):
    model_config = ConfigDict(extra="ignore")

    segment_id: str = Field(description="The id of the segment whose members are exported.")
    fields_to_export: list[str] = Field(
        description=(
            "Which fields each exported user has, a non-empty subset of external_id, "
            "braze_id, user_aliases, devices, custom_attributes and cohorts."
        )
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
