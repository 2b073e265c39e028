"""Braze's standard profile fields, kept in ``users.profile`` apart from custom attributes.

Each is a string or null (null clears it); ``gender`` is one of Braze's letters and ``dob`` a
date as YYYY-MM-DD. A merge fills those the kept user lacks, as it fills custom attributes.
"""

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

GENDERS = ("M", "F", "O", "N", "P")  # male, female, other, not applicable, prefer not to say
MAX_TEXT_LENGTH = 255
