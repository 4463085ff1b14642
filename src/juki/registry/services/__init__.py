"""The registry's services: every life event, action by authority, seal and read of a record.

Each takes a unit of work (`juki.registry.ports.RegistryUnitOfWork`), the actor (`by`) and a
command, and runs through the one action runner (`juki.security.actions.perform`): authorised,
applied, logged and committed together. The modules group them by what they change.
"""

from juki.registry.services.authority import (
    assign_my_number,
    correct_by_authority,
    enter_by_authority,
    remove_by_authority,
)
from juki.registry.services.cancellation import cancel_changes, withdraw_move_out
from juki.registry.services.codes import change_resident_code
from juki.registry.services.households import (
    change_householder,
    merge_households,
    record_relocation,
    split_household,
)
from juki.registry.services.moves import confirm_move_out, record_move_in, record_move_out
from juki.registry.services.people import change_name, record_birth, record_death
from juki.registry.services.reads import (
    get_record,
    household_view,
    record_as_of,
    record_history,
    registry_stats,
    search_records,
)
from juki.registry.services.seals import abolish_seal, live_seal, register_seal

__all__ = [
    "abolish_seal",
    "assign_my_number",
    "cancel_changes",
    "change_householder",
    "change_name",
    "change_resident_code",
    "confirm_move_out",
    "correct_by_authority",
    "enter_by_authority",
    "get_record",
    "household_view",
    "live_seal",
    "merge_households",
    "record_as_of",
    "record_birth",
    "record_death",
    "record_history",
    "record_move_in",
    "record_move_out",
    "record_relocation",
    "register_seal",
    "registry_stats",
    "remove_by_authority",
    "search_records",
    "split_household",
    "withdraw_move_out",
]
