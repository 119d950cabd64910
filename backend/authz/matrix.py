"""Which sections each profession may see at all: the profession matrix (DESIGN §3).

A declarative table; `docs/profession-matrix.md` is generated from it.
"""

from __future__ import annotations

from backend.domain.enums import Profession, Section

S = Section

PROFESSION_MATRIX: dict[Profession, frozenset[Section]] = {
    Profession.MEDECIN: frozenset(Section),
    Profession.PHARMACIEN: frozenset(
        {S.MEDICATIONS, S.ALLERGIES, S.LAB_RESULTS, S.VACCINATIONS, S.EMERGENCY}
    ),
    Profession.INFIRMIER: frozenset(
        {S.MEDICATIONS, S.MEDICAL_DEVICES, S.ALLERGIES, S.LAB_RESULTS, S.VACCINATIONS,
         S.DOCUMENTS, S.EMERGENCY}
    ),
    Profession.SAGE_FEMME: frozenset(
        {S.MEDICATIONS, S.PROCEDURES, S.IMAGING, S.LAB_RESULTS, S.HOSPITAL_STAYS,
         S.MEDICAL_HISTORY, S.ALLERGIES, S.VACCINATIONS, S.DOCUMENTS, S.EMERGENCY}
    ),
    Profession.CHIRURGIEN_DENTISTE: frozenset(
        {S.MEDICATIONS, S.PROCEDURES, S.IMAGING, S.MEDICAL_HISTORY, S.ALLERGIES, S.EMERGENCY}
    ),
    Profession.KINESITHERAPEUTE: frozenset(
        {S.MEDICAL_DEVICES, S.PROCEDURES, S.IMAGING, S.ALLERGIES, S.DOCUMENTS, S.EMERGENCY}
    ),
    Profession.BIOLOGISTE: frozenset(
        {S.MEDICATIONS, S.LAB_RESULTS, S.ALLERGIES, S.EMERGENCY}
    ),
    Profession.RADIOLOGUE: frozenset(
        {S.PROCEDURES, S.IMAGING, S.MEDICAL_DEVICES, S.ALLERGIES, S.DOCUMENTS, S.EMERGENCY}
    ),
}

# Sections the insurer imports (DESIGN §1): the care history.
INSURER_SECTIONS: frozenset[Section] = frozenset(
    {S.MEDICATIONS, S.MEDICAL_DEVICES, S.PROCEDURES, S.IMAGING, S.LAB_RESULTS, S.HOSPITAL_STAYS}
)

# Sections a patient may add entries to in their own record (DESIGN §3).
PATIENT_WRITABLE: frozenset[Section] = frozenset({S.DOCUMENTS, S.LAB_RESULTS, S.VACCINATIONS})


def allowed_sections(profession: Profession | None) -> frozenset[Section]:
    if profession is None:
        return frozenset()
    return PROFESSION_MATRIX.get(profession, frozenset())


def render_markdown() -> str:
    """The matrix as a Markdown table, for the docs."""
    sections = list(Section)
    lines = [
        "# Profession matrix",
        "",
        "Generated from `backend/authz/matrix.py` by `dmp docs-matrix`; do not edit by hand.",
        "A grant, the regulator and break-glass give a practitioner at most these sections;",
        "the treating physician (a `medecin`) sees every section.",
        "",
        "| profession | " + " | ".join(s.value for s in sections) + " |",
        "| --- | " + " | ".join("---" for _ in sections) + " |",
    ]
    for profession, allowed in PROFESSION_MATRIX.items():
        cells = ["yes" if s in allowed else "—" for s in sections]
        lines.append(f"| {profession.value} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"
