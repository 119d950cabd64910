"""The reasons the service writes in history events (backend/audit/reasons.py), and the page's
wording of each (frontend/src/lib/history.js, `shownReason`).

The texts are sealed in the history's hash chain: each constant and template is pinned to
the text the service has always written. Then every reason of the module, rendered with sample
values (a name with accents, every profession, every export format, every emergency
preference, every review state), goes through the page's own `shownReason` in Node, in one
call: in French it is shown as stored; in English it is worded in English, its variable parts
(a name, an RPPS, a format, a command, the patient's comment) kept and no French word left.
The import's reason is the one written in English: the page words it in French.
"""

from __future__ import annotations

import datetime as dt
import inspect
import json
import re
import shutil
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from backend.audit import reasons
from backend.domain.enums import AccessAction, EmergencyKind, Profession, ReviewState
from backend.resolvers.export import ExportFormat

ROOT = Path(__file__).resolve().parent.parent
HISTORY_JS = ROOT / "frontend" / "src" / "lib" / "history.js"

NAME = "Hélène Dupré-Lefèvre"
RPPS = "10001234567"


def test_each_text_is_the_one_written_until_now() -> None:
    # Literals as the resolvers wrote them in place before the module gathered them.
    assert reasons.activated_by_operator("dmp create-account") == (
        "dossier créé et activé par l'exploitant (dmp create-account)"
    )
    assert reasons.IDENTITY_CHECKED == "identité vérifiée par le professionnel"
    assert reasons.EXISTING_RECORD == "ouverture d'un dossier existant"
    assert reasons.OTHER_IDENTITY == "ouverture refusée : identité différente"
    assert reasons.EMERGENCY_REFUSED == "accès d'urgence refusé"
    assert reasons.ENDED_BY_REPORT == "accès d'urgence fermé par le signalement du patient"
    assert reasons.IMPORT_REFUSED_CLOSED == "import refusé : dossier fermé"
    assert reasons.IMPORT_REFUSED_DELETION == "import refusé : suppression du dossier demandée"
    assert reasons.IMPORT_REFUSED_IDENTITY == "import refusé : date de naissance différente"
    assert reasons.OPENED_BY_IMPORT == "record opened by the import for this identity"
    assert [reasons.export_format(f.value) for f in ExportFormat] == ["format JSON", "format FHIR"]
    labels = {
        Profession.MEDECIN: "médecin", Profession.PHARMACIEN: "pharmacien",
        Profession.INFIRMIER: "infirmier", Profession.SAGE_FEMME: "sage-femme",
        Profession.CHIRURGIEN_DENTISTE: "chirurgien-dentiste",
        Profession.KINESITHERAPEUTE: "kinésithérapeute", Profession.BIOLOGISTE: "biologiste",
        Profession.RADIOLOGUE: "radiologue",
    }
    assert set(labels) == set(Profession)
    for profession, label in labels.items():
        assert reasons.professional(NAME, profession, RPPS) == f"{NAME} ({label}, RPPS {RPPS})"
    who = "Jean (Jo) Roy (pharmacien, RPPS 10002222222)"
    assert reasons.granted(who) == f"accès accordé à {who}"
    assert reasons.revoked(who) == f"accès retiré à {who}"
    assert reasons.blocked(who) == f"{who} bloqué"
    assert reasons.unblocked(who) == f"{who} débloqué"
    assert reasons.PHYSICIAN_REMOVED == "médecin traitant retiré"
    assert reasons.physician_set(who) == f"médecin traitant : {who}"
    prefix = "préférences d'urgence : "
    assert [reasons.emergency_preferences(r, b) for r in (True, False) for b in (True, False)] == [
        prefix + "accès du régulateur du SAMU autorisé, accès en urgence (bris de glace) autorisé",
        prefix + "accès du régulateur du SAMU autorisé, accès en urgence (bris de glace) refusé",
        prefix + "accès du régulateur du SAMU refusé, accès en urgence (bris de glace) autorisé",
        prefix + "accès du régulateur du SAMU refusé, accès en urgence (bris de glace) refusé",
    ]
    assert reasons.PASSWORD_RESET == "mot de passe réinitialisé"  # noqa: S105 - a history reason
    assert reasons.PASSWORD_CHANGED == "mot de passe modifié"  # noqa: S105 - a history reason
    assert reasons.EMAIL_CHANGED == "adresse e-mail modifiée"
    assert reasons.PHONE_CHANGED == "numéro de téléphone modifié"
    assert reasons.CODES_BY_SMS == "codes de connexion envoyés par SMS"
    assert reasons.CODES_BY_EMAIL == "codes de connexion envoyés par e-mail"
    assert reasons.PASSKEY_ADDED == "clé d'accès ajoutée"
    assert reasons.PASSKEY_REMOVED == "clé d'accès retirée"
    assert reasons.PASSKEY_RENAMED == "clé d'accès renommée"
    assert reasons.CONTACTS_RENEWED == "coordonnées et mot de passe renouvelés"
    assert reasons.SUPPORT_READ == "consultation du compte par le support"
    assert reasons.SUPPORT_UNLOCKED == "déblocage du compte par le support"
    assert reasons.SUPPORT_RESENT == "renvoi du code d'activation au contact connu"
    assert reasons.SUPPORT_RECOVERY == "ouverture d'une récupération de contacts"
    assert reasons.OPERATOR_UNLOCKED == "déblocage de la connexion par l'exploitant"
    assert reasons.reviewed(ReviewState.ACKNOWLEDGED, "") == "ACKNOWLEDGED"
    assert reasons.reviewed(ReviewState.REPORTED, "je ne connais pas ce médecin") == (
        "REPORTED: je ne connais pas ce médecin"
    )
    opened = dt.datetime(2026, 12, 7, 22, 4, 5, 123456, tzinfo=dt.timezone(dt.timedelta(hours=1)))
    assert reasons.reviewed_access(ReviewState.ACKNOWLEDGED, EmergencyKind.BREAK_GLASS, opened, who, "") == (
        f"ACKNOWLEDGED BREAK_GLASS 2026-12-07T21:04:05Z {who}"
    )
    assert reasons.reviewed_access(
        ReviewState.REPORTED, EmergencyKind.REGULATOR, opened, who, "je ne connais pas ce médecin"
    ) == f"REPORTED REGULATOR 2026-12-07T21:04:05Z {who}: je ne connais pas ce médecin"


@dataclass(frozen=True)
class Sample:
    """One reason as stored, the event it comes in, and its variable parts (kept as written)."""

    name: str
    action: AccessAction
    stored: str
    kept: tuple[str, ...] = ()


def _who_samples() -> list[tuple[str, tuple[str, ...]]]:
    found = [(reasons.professional(NAME, p, RPPS), (NAME, RPPS)) for p in Profession]
    found.append((reasons.professional("Jean (Jo) Roy", Profession.PHARMACIEN, "10002222222"),
                  ("Jean (Jo) Roy", "10002222222")))
    return found


# Each reason of the module: its event, and how to render it with sample values (its
# arguments, and the parts the page keeps as written). A constant has no arguments.
Render = Callable[[], list[tuple[tuple[Any, ...], tuple[str, ...]]]]
WHO: Render = lambda: [((who,), kept) for who, kept in _who_samples()]  # noqa: E731
COMMENTS = ("", "je ne connais pas ce médecin", "ligne 1\nligne 2")
OPENED = dt.datetime(2026, 12, 7, 21, 4, 5, tzinfo=dt.UTC)
EVENTS: dict[str, tuple[AccessAction, Render | None]] = {
    # The commands of backend/cli.py (create-account) and backend/demo.py (seed-demo).
    "activated_by_operator": (AccessAction.RECORD_ACTIVATED, lambda: [
        ((command,), (command,)) for command in ("dmp create-account", "dmp seed-demo")
    ]),
    "IDENTITY_CHECKED": (AccessAction.RECORD_OPENED, None),
    "EXISTING_RECORD": (AccessAction.ACCESS_DENIED, None),
    "OTHER_IDENTITY": (AccessAction.ACCESS_DENIED, None),
    "EMERGENCY_REFUSED": (AccessAction.ACCESS_DENIED, None),
    "ENDED_BY_REPORT": (AccessAction.ACCESS_DENIED, None),
    "IMPORT_REFUSED_CLOSED": (AccessAction.ACCESS_DENIED, None),
    "IMPORT_REFUSED_DELETION": (AccessAction.ACCESS_DENIED, None),
    "IMPORT_REFUSED_IDENTITY": (AccessAction.ACCESS_DENIED, None),
    "OPENED_BY_IMPORT": (AccessAction.ENTRIES_IMPORTED, None),
    "export_format": (AccessAction.RECORD_EXPORTED, lambda: [((f.value,), (f.value,)) for f in ExportFormat]),
    "granted": (AccessAction.SHARING_CHANGED, WHO),
    "revoked": (AccessAction.SHARING_CHANGED, WHO),
    "blocked": (AccessAction.SHARING_CHANGED, WHO),
    "unblocked": (AccessAction.SHARING_CHANGED, WHO),
    "PHYSICIAN_REMOVED": (AccessAction.SHARING_CHANGED, None),
    "physician_set": (AccessAction.SHARING_CHANGED, WHO),
    "emergency_preferences": (AccessAction.SHARING_CHANGED, lambda: [
        ((r, b), ()) for r in (True, False) for b in (True, False)
    ]),
    "PASSWORD_RESET": (AccessAction.SECURITY_CHANGED, None),
    "PASSWORD_CHANGED": (AccessAction.SECURITY_CHANGED, None),
    "EMAIL_CHANGED": (AccessAction.SECURITY_CHANGED, None),
    "PHONE_CHANGED": (AccessAction.SECURITY_CHANGED, None),
    "CODES_BY_SMS": (AccessAction.SECURITY_CHANGED, None),
    "CODES_BY_EMAIL": (AccessAction.SECURITY_CHANGED, None),
    "PASSKEY_ADDED": (AccessAction.SECURITY_CHANGED, None),
    "PASSKEY_REMOVED": (AccessAction.SECURITY_CHANGED, None),
    "PASSKEY_RENAMED": (AccessAction.SECURITY_CHANGED, None),
    "CONTACTS_RENEWED": (AccessAction.SECURITY_CHANGED, None),
    "SUPPORT_READ": (AccessAction.SUPPORT_ACTION, None),
    "SUPPORT_UNLOCKED": (AccessAction.SUPPORT_ACTION, None),
    "SUPPORT_RESENT": (AccessAction.SUPPORT_ACTION, None),
    "SUPPORT_RECOVERY": (AccessAction.SUPPORT_ACTION, None),
    "OPERATOR_UNLOCKED": (AccessAction.SUPPORT_ACTION, None),
    # The states a review may choose (the API's acknowledge and report); PENDING is none.
    "reviewed": (AccessAction.EMERGENCY_REVIEWED, lambda: [
        ((state, comment), (comment,) if comment else ())
        for state in ReviewState if state != ReviewState.PENDING for comment in COMMENTS
    ]),
    # Each state, each kind, each professional's form, and a comment that reads like one.
    "reviewed_access": (AccessAction.EMERGENCY_REVIEWED, lambda: [
        ((state, kind, OPENED, who, comment), (*kept, comment) if comment else kept)
        for state in ReviewState if state != ReviewState.PENDING for kind in EmergencyKind
        for who, kept in _who_samples() for comment in (*COMMENTS, "vu (médecin, RPPS 1): rien")
    ]),
}
# Not a reason of its own: the professional's part of the sharing reasons, rendered above.
PARTS = {"professional"}
# Written in English (imports.py did so from the start): the page words it in French.
IN_ENGLISH = {"OPENED_BY_IMPORT": "dossier ouvert par l'import pour cette identité"}
# Written as a code (the review's state, then the patient's comment): worded in both languages.
CODED = {"reviewed", "reviewed_access"}


def _module_reasons() -> set[str]:
    """The module's public texts and templates: its str constants and its own functions."""
    found = set()
    for name, value in vars(reasons).items():
        if name.startswith("_"):
            continue
        if isinstance(value, str) or (inspect.isfunction(value) and value.__module__ == reasons.__name__):
            found.add(name)
    return found


def test_every_reason_of_the_module_has_its_event_and_samples() -> None:
    assert _module_reasons() == set(EVENTS) | PARTS


def samples() -> list[Sample]:
    found = []
    for name, (action, render) in EVENTS.items():
        value = getattr(reasons, name)
        if render is None:
            assert isinstance(value, str), name
            found.append(Sample(name, action, value))
            continue
        for args, kept in render():
            found.append(Sample(name, action, value(*args), kept))
    return found


NODE = """
import { readFileSync } from 'node:fs';
const { shownReason } = await import(process.argv[1]);
const asked = JSON.parse(readFileSync(0, 'utf8'));
const shown = asked.map(([action, reason]) => ({
  en: shownReason('en', action, reason), fr: shownReason('fr', action, reason),
}));
process.stdout.write(JSON.stringify(shown));
"""


def shown_by_the_page(asked: list[tuple[str, str]]) -> list[dict[str, str]]:
    """Each (action, reason) as the page's `shownReason` shows it in English and French."""
    node = shutil.which("node")
    assert node, "node is needed to run the page's own code"
    done = subprocess.run(
        [node, "--input-type=module", "-e", NODE, HISTORY_JS.as_uri()],
        input=json.dumps(asked), capture_output=True, text=True, check=True, timeout=60, cwd=ROOT,
    )
    result: list[dict[str, str]] = json.loads(done.stdout)
    return result


ACCENTED = re.compile(r"[àâäçéèêëîïôöùûüÿœæ]", re.IGNORECASE)
# Words the French texts share with their English wording.
SAME_IN_BOTH = {
    "activation", "format", "support", "code", "codes", "contact", "mail", "sms", "samu", "rpps",
    "import", "date", "patient",
}


def _words(text: str) -> set[str]:
    return {w.lower() for w in re.findall(r"[^\W\d_]{2,}", text)}


def _without(text: str, parts: tuple[str, ...]) -> str:
    for part in sorted(parts, key=len, reverse=True):
        text = text.replace(part, " ")
    return text


def french_left(sample: Sample, english: str, french: str | None = None) -> list[str]:
    """What of the French text (the stored one unless given) is still in the English text,
    its variable parts aside."""
    rest = _without(english, sample.kept)
    left = sorted(set(ACCENTED.findall(rest)))
    french = sample.stored if french is None else french
    left += sorted((_words(_without(french, sample.kept)) & _words(rest)) - SAME_IN_BOTH)
    return left


def test_the_page_words_every_reason_in_english_and_shows_it_in_french_as_stored() -> None:
    every = samples()
    shown = shown_by_the_page([(s.action.value, s.stored) for s in every])
    problems = []
    for sample, page in zip(every, shown, strict=True):
        where = f"{sample.name} {sample.stored!r}"
        french, english = page["fr"], page["en"]
        if sample.name in IN_ENGLISH:
            if (english, french) != (sample.stored, IN_ENGLISH[sample.name]):
                problems.append(f"{where}: shown {page}")
            continue
        if sample.name in CODED:
            # A state's code: worded in both languages, the patient's comment kept.
            if french == sample.stored or any(part not in french for part in sample.kept):
                problems.append(f"{where}: shown in French as {french!r}")
        elif french != sample.stored:
            problems.append(f"{where}: shown in French as {french!r}")
        if english in (sample.stored, french):
            problems.append(f"{where}: not worded in English")
            continue
        lost = [part for part in sample.kept if part not in english]
        if lost:
            problems.append(f"{where}: {english!r} loses {lost}")
        left = french_left(sample, english, french)
        if left:
            problems.append(f"{where}: {english!r} keeps French {left}")
    assert problems == []


def test_the_check_sees_a_reason_the_page_does_not_word() -> None:
    # A reason the page has no row for is shown as stored, in French, on the English page.
    unknown = Sample("new", AccessAction.SECURITY_CHANGED, "clé de secours modifiée")
    [page] = shown_by_the_page([(unknown.action.value, unknown.stored)])
    assert page == {"en": unknown.stored, "fr": unknown.stored}
    # Half worded: the French left is found.
    assert french_left(unknown, "backup key modifiée") == ["é", "modifiée"]
    kept = Sample("x", AccessAction.SHARING_CHANGED, reasons.granted(f"{NAME} (médecin, RPPS {RPPS})"),
                  (NAME, RPPS))
    assert french_left(kept, f"access granted to {NAME} (doctor, RPPS {RPPS})") == []
    assert french_left(kept, f"access granted to {NAME} (médecin, RPPS {RPPS})") == ["é", "médecin"]
