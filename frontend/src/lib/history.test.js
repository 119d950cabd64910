import { describe, expect, it } from 'vitest';
import { asShown, reasonKey, shownReason } from './history.js';

// Every reason the backend writes in an event, as it writes it, with where it is written from
// (the texts themselves all come from backend/audit/reasons.py, which
// tests/test_history_reasons.py runs through shownReason in full). A variable part is given a
// sample value.
const DOCTOR = 'Jeanne Martin (médecin, RPPS 10001234567)';
const WRITTEN = [
  // backend/accounts.py create_account, command from backend/cli.py cmd_create_account
  ['RECORD_ACTIVATED', "dossier créé et activé par l'exploitant (dmp create-account)",
    'record created and activated by the operator (dmp create-account)'],
  // backend/resolvers/signup.py open_record_for_patient
  ['RECORD_OPENED', 'identité vérifiée par le professionnel', 'identity checked by the professional'],
  ['ACCESS_DENIED', "ouverture d'un dossier existant", 'attempt to open a record that already exists'],
  ['ACCESS_DENIED', 'ouverture refusée : identité différente', 'opening refused: a different identity'],
  // backend/resolvers/imports.py _write (an import's items the record refused)
  ['ACCESS_DENIED', 'import refusé : dossier fermé', 'import refused: the record is closed'],
  ['ACCESS_DENIED', 'import refusé : suppression du dossier demandée', "import refused: the record's deletion was requested"],
  ['ACCESS_DENIED', 'import refusé : date de naissance différente', 'import refused: a different birth date'],
  // backend/resolvers/signup.py create_record (a contact recovery finished)
  ['SECURITY_CHANGED', 'coordonnées et mot de passe renouvelés', 'contact details and password renewed'],
  // backend/resolvers/emergency.py (an emergency access the patient opposes)
  ['ACCESS_DENIED', "accès d'urgence refusé", 'emergency access refused'],
  // backend/resolvers/records.py note_denied (a read after the patient's report ended the access)
  ['ACCESS_DENIED', "accès d'urgence fermé par le signalement du patient", "emergency access closed by the patient's report"],
  // backend/resolvers/export.py export_my_record, reasons.export_format (ExportFormat)
  ['RECORD_EXPORTED', 'format JSON', 'JSON format'],
  ['RECORD_EXPORTED', 'format FHIR', 'FHIR format'],
  // backend/resolvers/sharing.py, `_who` naming the professional (reasons.professional)
  ['SHARING_CHANGED', `accès accordé à ${DOCTOR}`, 'access granted to Jeanne Martin (doctor, RPPS 10001234567)'],
  ['SHARING_CHANGED', `accès retiré à ${DOCTOR}`, 'access removed from Jeanne Martin (doctor, RPPS 10001234567)'],
  ['SHARING_CHANGED', 'Paul Roux (kinésithérapeute, RPPS 10009876543) bloqué',
    'Paul Roux (physiotherapist, RPPS 10009876543) blocked'],
  ['SHARING_CHANGED', 'Anne Petit (sage-femme, RPPS 10005555555) débloqué', 'Anne Petit (midwife, RPPS 10005555555) unblocked'],
  ['SHARING_CHANGED', 'médecin traitant retiré', 'treating physician removed'],
  ['SHARING_CHANGED', `médecin traitant : ${DOCTOR}`, 'treating physician: Jeanne Martin (doctor, RPPS 10001234567)'],
  ['SHARING_CHANGED',
    "préférences d'urgence : accès du régulateur du SAMU autorisé, accès en urgence (bris de glace) refusé",
    'emergency preferences: SAMU regulator access allowed, break-glass emergency access refused'],
  ['SHARING_CHANGED',
    "préférences d'urgence : accès du régulateur du SAMU refusé, accès en urgence (bris de glace) autorisé",
    'emergency preferences: SAMU regulator access refused, break-glass emergency access allowed'],
  // backend/resolvers/login.py (a password reset)
  ['SECURITY_CHANGED', 'mot de passe réinitialisé', 'password reset'],
  // backend/resolvers/auth.py, through security_change
  ['SECURITY_CHANGED', 'mot de passe modifié', 'password changed'],
  ['SECURITY_CHANGED', 'adresse e-mail modifiée', 'e-mail address changed'],
  ['SECURITY_CHANGED', 'numéro de téléphone modifié', 'phone number changed'],
  ['SECURITY_CHANGED', 'codes de connexion envoyés par SMS', 'sign-in codes sent by SMS'],
  ['SECURITY_CHANGED', 'codes de connexion envoyés par e-mail', 'sign-in codes sent by e-mail'],
  // backend/resolvers/passkeys.py, through security_change
  ['SECURITY_CHANGED', "clé d'accès ajoutée", 'passkey added'],
  ['SECURITY_CHANGED', "clé d'accès retirée", 'passkey removed'],
  ['SECURITY_CHANGED', "clé d'accès renommée", 'passkey renamed'],
  // backend/resolvers/support.py, through _note and _acting
  ['SUPPORT_ACTION', 'consultation du compte par le support', 'account viewed by support'],
  ['SUPPORT_ACTION', 'déblocage du compte par le support', 'account unlocked by support'],
  ['SUPPORT_ACTION', "renvoi du code d'activation au contact connu", 'activation code sent again to the known contact'],
  ['SUPPORT_ACTION', "ouverture d'une récupération de contacts", 'contact recovery opened'],
  // backend/accounts.py unlock_by_operator (dmp unlock-account)
  ['SUPPORT_ACTION', "déblocage de la connexion par l'exploitant", 'sign-in unlocked by the operator'],
];

// reasons.OPENED_BY_IMPORT (backend/resolvers/imports.py): written in English, worded in French here.
const IMPORTED = ['ENTRIES_IMPORTED', 'record opened by the import for this identity'];

describe('the reasons the service writes', () => {
  it('are worded in English, their variable parts kept', () => {
    for (const [action, stored, english] of WRITTEN) {
      expect([stored, shownReason('en', action, stored)]).toEqual([stored, english]);
    }
  });

  it('are shown in French as stored', () => {
    for (const [action, stored] of WRITTEN) expect(shownReason('fr', action, stored)).toBe(stored);
  });

  it('keep any command the operator ran, as written', () => {
    expect(shownReason('en', 'RECORD_ACTIVATED', "dossier créé et activé par l'exploitant (dmp demo)"))
      .toBe('record created and activated by the operator (dmp demo)');
  });

  // backend/domain/enums.py PROFESSION_LABELS, as `_who` writes them.
  it('word every profession a professional is named with', () => {
    const labels = {
      médecin: 'doctor', pharmacien: 'pharmacist', infirmier: 'nurse', 'sage-femme': 'midwife',
      'chirurgien-dentiste': 'dental surgeon', kinésithérapeute: 'physiotherapist',
      biologiste: 'clinical biologist', radiologue: 'radiologist',
    };
    for (const [label, english] of Object.entries(labels)) {
      const stored = `accès retiré à A B (${label}, RPPS 10001111111)`;
      expect(shownReason('en', 'SHARING_CHANGED', stored)).toBe(`access removed from A B (${english}, RPPS 10001111111)`);
      expect(shownReason('fr', 'SHARING_CHANGED', stored)).toBe(stored);
    }
  });

  it('keep a name with brackets of its own', () => {
    expect(shownReason('en', 'SHARING_CHANGED', 'accès accordé à Jean (Jo) Roy (pharmacien, RPPS 10002222222)'))
      .toBe('access granted to Jean (Jo) Roy (pharmacist, RPPS 10002222222)');
  });

  it('word the import\'s English reason in French', () => {
    const [action, stored] = IMPORTED;
    expect(shownReason('en', action, stored)).toBe(stored);
    expect(shownReason('fr', action, stored)).toBe("dossier ouvert par l'import pour cette identité");
  });

  // backend/resolvers/history.py review_emergency_access: the state, then the patient's comment.
  it('word an emergency review\'s state and keep the patient\'s comment', () => {
    expect(shownReason('en', 'EMERGENCY_REVIEWED', 'ACKNOWLEDGED')).toBe('access judged justified');
    expect(shownReason('fr', 'EMERGENCY_REVIEWED', 'ACKNOWLEDGED')).toBe('accès jugé justifié');
    expect(shownReason('en', 'EMERGENCY_REVIEWED', 'REPORTED: je ne connais pas ce médecin'))
      .toBe('access reported as unjustified: je ne connais pas ce médecin');
    expect(shownReason('fr', 'EMERGENCY_REVIEWED', 'REPORTED: ligne 1\nligne 2'))
      .toBe('accès signalé comme injustifié : ligne 1\nligne 2');
  });

  // reasons.reviewed_access: the state, the access reviewed (kind, opening in UTC, practitioner),
  // then the comment. The opening is shown in the page's language, where the page is.
  it('name the access reviewed: its kind, who opened it and when, the comment kept', () => {
    const at = (locale) => new Intl.DateTimeFormat(locale, { dateStyle: 'medium', timeStyle: 'short' })
      .format(new Date('2026-11-03T08:15:42Z'));
    const acknowledged = `ACKNOWLEDGED BREAK_GLASS 2026-11-03T08:15:42Z ${DOCTOR}`;
    expect(shownReason('fr', 'EMERGENCY_REVIEWED', acknowledged)).toBe(
      `accès jugé justifié — accès en urgence (bris de glace) ouvert par ${DOCTOR} le ${at('fr-FR')}`);
    expect(shownReason('en', 'EMERGENCY_REVIEWED', acknowledged)).toBe(
      `access judged justified — break-glass emergency access opened by Jeanne Martin (doctor, RPPS 10001234567) on ${at('en-GB')}`);
    // A name with brackets, and a comment that reads like a professional: each kept where it is.
    const reported = 'REPORTED REGULATOR 2026-11-03T08:15:42Z Jean (Jo) Roy (médecin, RPPS 10002222222): vu X (médecin, RPPS 1): non';
    expect(shownReason('en', 'EMERGENCY_REVIEWED', reported)).toBe(
      `access reported as unjustified — SAMU regulator access opened by Jean (Jo) Roy (doctor, RPPS 10002222222) on ${at('en-GB')}: vu X (médecin, RPPS 1): non`);
    expect(shownReason('fr', 'EMERGENCY_REVIEWED', reported)).toBe(
      `accès signalé comme injustifié — accès du régulateur du SAMU ouvert par Jean (Jo) Roy (médecin, RPPS 10002222222) le ${at('fr-FR')} : vu X (médecin, RPPS 1): non`);
    // A profession the page does not know: the text as stored.
    const unknown = 'ACKNOWLEDGED BREAK_GLASS 2026-11-03T08:15:42Z X (sorcier, RPPS 1)';
    expect(shownReason('en', 'EMERGENCY_REVIEWED', unknown)).toBe(unknown);
  });
});

describe('other reasons', () => {
  it('leave a practitioner\'s stated reason as written, even one that reads like the service\'s', () => {
    for (const action of ['BREAK_GLASS_OPENED', 'REGULATOR_ACCESS']) {
      expect(reasonKey(action)).toBe('history.reason');
      expect(shownReason('en', action, 'patient inconscient, allergies à vérifier')).toBe('patient inconscient, allergies à vérifier');
      expect(shownReason('en', action, 'mot de passe modifié')).toBe('mot de passe modifié');
    }
  });

  it('leave an unknown text, or a known one under another action, as stored', () => {
    expect(shownReason('en', 'SECURITY_CHANGED', 'une raison inconnue')).toBe('une raison inconnue');
    expect(shownReason('en', 'SUPPORT_ACTION', 'mot de passe modifié')).toBe('mot de passe modifié');
    expect(shownReason('en', 'SHARING_CHANGED', 'accès accordé à X (sorcier, RPPS 1)')).toBe('accès accordé à X (sorcier, RPPS 1)');
    expect(shownReason('en', 'EMERGENCY_REVIEWED', 'PENDING')).toBe('PENDING');
    expect(shownReason('en', 'RECORD_READ', '')).toBe('');
  });
});

describe('text as it shows', () => {
  it('leaves out control and format characters of a stored text, line breaks and tabs kept', () => {
    const reversed = 'Patient inconscient \u202Enoitcejni\u202C aux urgences';
    expect(shownReason('fr', 'BREAK_GLASS_OPENED', reversed)).toBe('Patient inconscient noitcejni aux urgences');
    expect(shownReason('en', 'BREAK_GLASS_OPENED', 'Arr\u200Bêt cardiaque\u0007')).toBe('Arrêt cardiaque');
    expect(asShown('Dr\u2066 Martin\u2069\nligne\tdeux')).toBe('Dr Martin\nligne\tdeux');
    expect(asShown(null)).toBe(null);
  });

  it('changes nothing in the reasons the service writes', () => {
    for (const reason of ["accès d'urgence refusé", 'accès accordé à Jeanne Martin (médecin, RPPS 10001234567)']) {
      expect(asShown(reason)).toBe(reason);
    }
  });
});
