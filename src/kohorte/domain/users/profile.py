"""Braze's standard profile fields, kept in ``users.profile`` apart from custom attributes."""

STANDARD_FIELDS = (
    "first_name",
    "last_name",
    "email",
    "phone",
    "gender",
    "dob",
    "country",
    "home_city",
    "language",
    "time_zone",
)
