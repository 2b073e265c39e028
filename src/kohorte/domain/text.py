"""Rules for text that clients send and the store must be able to keep."""

# Identifiers longer than this are refused where kohorte stores them (the SDKs' own cap).
MAX_IDENTIFIER_BYTES = 997
MAX_NAME_LENGTH = 255
# cohort_id sits in a unique index; PostgreSQL's btree entries must stay well under ~2.7 kB.
MAX_COHORT_ID_BYTES = 1000


def is_storable(text: str) -> bool:
    """PostgreSQL text holds neither NUL nor lone surrogates; neither is a real identifier."""
    if "\x00" in text:
        return False
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def is_valid_identifier(value: object) -> bool:
    return (
        isinstance(value, str)
        and value != ""
        and is_storable(value)
        and len(value.encode("utf-8")) <= MAX_IDENTIFIER_BYTES
    )


def is_valid_cohort_id(value: object) -> bool:
    return (
        isinstance(value, str)
        and value != ""
        and is_storable(value)
        and len(value.encode("utf-8")) <= MAX_COHORT_ID_BYTES
    )


def is_valid_name(value: object, max_length: int = MAX_NAME_LENGTH) -> bool:
    return (
        isinstance(value, str)
        and value.strip() != ""
        and len(value) <= max_length
        and is_storable(value)
    )
