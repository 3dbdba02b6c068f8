"""Wire models for `/observed-states`: state types and names seen in run histories."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum

from podium.schemas.base import PodiumModel


class ObservedStateSort(StrEnum):
    NAME_ASC = "NAME_ASC"
    LAST_SEEN_DESC = "LAST_SEEN_DESC"


class ObservedState(PodiumModel):
    state_type: str
    state_name: str
    first_seen: dt.datetime
    last_seen: dt.datetime
