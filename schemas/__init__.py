"""Wire records of streamrec and their validation."""

from schemas.records import (
    EVENT_TYPES,
    SCHEMA_VERSION,
    DeadLetter,
    Impression,
    ImpressionItem,
    Interaction,
    ItemUpsert,
    ModelActivated,
    UserCommand,
)
from schemas.validate import parse_interaction, parse_item, parse_user_command

__all__ = [
    "EVENT_TYPES",
    "SCHEMA_VERSION",
    "DeadLetter",
    "Impression",
    "ImpressionItem",
    "Interaction",
    "ItemUpsert",
    "ModelActivated",
    "UserCommand",
    "parse_interaction",
    "parse_item",
    "parse_user_command",
]
