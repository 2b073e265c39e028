"""Segments over partner cohorts: filters, their evaluation in SQL, and the service."""

from kohorte.domain.segments.members import (
    Preview,
    When,
    export_members,
    preview,
    segment_members,
    segment_size,
)
from kohorte.domain.segments.series import Point, SeriesRequest, data_series
from kohorte.domain.segments.service import (
    SegmentDetails,
    create_segment,
    delete_segment,
    get_segment,
    list_segments,
    replace_segment,
    segment_details,
)

__all__ = [
    "Point",
    "Preview",
    "SegmentDetails",
    "SeriesRequest",
    "When",
    "create_segment",
    "data_series",
    "delete_segment",
    "export_members",
    "get_segment",
    "list_segments",
    "preview",
    "replace_segment",
    "segment_details",
    "segment_members",
    "segment_size",
]
