"""Segments over partner cohorts: filters, their evaluation in SQL, and the service."""

from kohorte.domain.segments.members import (
    Preview,
    export_members,
    preview,
    segment_members,
    segment_size,
)
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
    "Preview",
    "SegmentDetails",
    "create_segment",
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
