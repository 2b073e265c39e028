"""The bodies of ``/users/identify``, ``/users/devices`` and ``/users/alias/new``, checked by
the models that the OpenAPI document shows. Limits are the services' to check."""

from pydantic import BaseModel, ConfigDict, Field

from kohorte.domain.users.fields import AliasRef, Identifier


class _Entry(BaseModel):
    model_config = ConfigDict(extra="forbid")


class AliasToIdentify(_Entry):
    external_id: Identifier = Field(description="The external id the alias's user gets")
    user_alias: AliasRef = Field(description="The alias of an anonymous user")


class DeviceToIdentify(_Entry):
    external_id: Identifier = Field(description="The external id the device's user gets")
    device_id: Identifier = Field(description="A device of an anonymous user")


class IdentifyRequest(BaseModel):
    aliases_to_identify: list[AliasToIdentify] = Field(
        default_factory=list, description="At most 50 entries over both arrays"
    )
    devices_to_identify: list[DeviceToIdentify] = Field(
        default_factory=list, description="Devices whose anonymous users are identified"
    )


class SessionDevice(_Entry):
    device_id: Identifier = Field(description="The device the SDK session ran on")
    external_id: Identifier | None = Field(
        None, description="The user logged in on it; without one, an anonymous user"
    )


class DevicesRequest(BaseModel):
    devices: list[SessionDevice] = Field(
        description="At most 1,000 devices seen in SDK sessions, applied in order"
    )


class NewAlias(_Entry):
    external_id: Identifier | None = Field(
        None, description="The user who gets the alias; without one, a new alias-only user"
    )
    alias_name: Identifier
    alias_label: Identifier


class AliasNewRequest(BaseModel):
    user_aliases: list[NewAlias] = Field(description="At most 50 aliases")
