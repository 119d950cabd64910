"""The access decision: one pure function over facts already loaded (DESIGN §3)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field

from backend.authz.matrix import PATIENT_WRITABLE, allowed_sections
from backend.domain.enums import AccessMode, Profession, RecordStatus, Role, Section

MODE_STRENGTH: dict[AccessMode, int] = {
    AccessMode.OWNER: 5,
    AccessMode.TREATING_PHYSICIAN: 4,
    AccessMode.GRANTED: 3,
    AccessMode.EMERGENCY_REGULATOR: 2,
    AccessMode.BREAK_GLASS: 1,
}

READ_ONLY_MODES = frozenset({AccessMode.EMERGENCY_REGULATOR, AccessMode.BREAK_GLASS})


@dataclass(frozen=True)
class ViewerFacts:
    role: Role | None
    account_id: uuid.UUID | None = None
    practitioner_id: uuid.UUID | None = None
    profession: Profession | None = None
    is_regulator: bool = False


@dataclass(frozen=True)
class RecordFacts:
    status: RecordStatus
    owner_id: uuid.UUID | None
    treating_physician_id: uuid.UUID | None
    allow_regulator: bool = True
    allow_break_glass: bool = True


@dataclass(frozen=True)
class SharingFacts:
    """What holds between this practitioner and this record right now."""

    granted: frozenset[Section] = field(default_factory=frozenset)
    blocked: bool = False
    regulator_open: bool = False
    break_glass_open: bool = False


NO_SHARING = SharingFacts()


@dataclass(frozen=True)
class Decision:
    allowed: bool
    mode: AccessMode | None = None


DENY = Decision(False)
# One decision per mode, made once: a frozen dataclass sets its fields through
# `object.__setattr__`, and `decide` runs for every section of every request.
ALLOW: dict[AccessMode, Decision] = {mode: Decision(True, mode) for mode in AccessMode}


def decide(
    viewer: ViewerFacts, record: RecordFacts, sharing: SharingFacts, section: Section
) -> Decision:
    """May this viewer read this section of this record, and in which mode."""
    if viewer.role is None:  # 1. anonymous
        return DENY
    if viewer.role == Role.PATIENT:  # 2. the owner
        if (
            viewer.account_id is not None
            and viewer.account_id == record.owner_id
            and record.status in (RecordStatus.ACTIVE, RecordStatus.CLOSED)
        ):
            return ALLOW[AccessMode.OWNER]
        return DENY
    if record.status != RecordStatus.ACTIVE:  # 3. no practitioner access
        return DENY
    if viewer.role != Role.PRACTITIONER:  # 4. support, 5. insurer: no read
        return DENY
    if sharing.blocked:  # 6. blocked, emergency modes included
        return DENY
    if (  # 7. the treating physician
        viewer.practitioner_id is not None
        and viewer.practitioner_id == record.treating_physician_id
        and viewer.profession == Profession.MEDECIN
    ):
        return ALLOW[AccessMode.TREATING_PHYSICIAN]
    matrix = allowed_sections(viewer.profession)
    if section not in matrix:
        return DENY
    if section in sharing.granted:  # 8. a grant for this section
        return ALLOW[AccessMode.GRANTED]
    if viewer.is_regulator and sharing.regulator_open and record.allow_regulator:  # 9.
        return ALLOW[AccessMode.EMERGENCY_REGULATOR]
    if sharing.break_glass_open and record.allow_break_glass:  # 10.
        return ALLOW[AccessMode.BREAK_GLASS]
    return DENY  # 11.


_SECTIONS = tuple(Section)  # iterating the enum itself runs a Python generator


def section_modes(
    viewer: ViewerFacts, record: RecordFacts, sharing: SharingFacts
) -> dict[Section, AccessMode]:
    """The mode of every section this viewer may read."""
    modes: dict[Section, AccessMode] = {}
    for section in _SECTIONS:
        decision = decide(viewer, record, sharing, section)
        if decision.allowed and decision.mode is not None:
            modes[section] = decision.mode
    return modes


def strongest(modes: dict[Section, AccessMode]) -> AccessMode | None:
    if not modes:
        return None
    return max(modes.values(), key=MODE_STRENGTH.__getitem__)


def sees_masked(
    viewer: ViewerFacts, mode: AccessMode | None, author_id: uuid.UUID | None
) -> bool:
    """Masked entries: the owner, the treating physician, and their author (DESIGN §3).

    The author sees them only while the section is readable to them (mode is not None).
    """
    if mode in (AccessMode.OWNER, AccessMode.TREATING_PHYSICIAN):
        return True
    return mode is not None and author_id is not None and author_id == viewer.account_id


def may_write(
    viewer: ViewerFacts, record: RecordFacts, sharing: SharingFacts, section: Section
) -> bool:
    """May this viewer add an entry to this section (DESIGN §3, Writing)."""
    decision = decide(viewer, record, sharing, section)
    if decision.mode == AccessMode.OWNER:
        return record.status == RecordStatus.ACTIVE and section in PATIENT_WRITABLE
    return decision.mode in (AccessMode.TREATING_PHYSICIAN, AccessMode.GRANTED)
