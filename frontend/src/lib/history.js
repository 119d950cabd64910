import { readsAs, t, translate } from '../i18n/index.js';
import { ALL_SECTIONS } from './sections.js';
import { formatDateTime } from './dates.js';

// The history filter as the API takes it: a period of days becomes from 00:00 to the day's last
// microsecond, in local time (the API's `to` is inclusive: the next day's midnight would take an
// event of that instant into the day before); `actorId` keeps one person's events only.
export function historyFilter({ from = '', to = '', action = '', mode = '', actorId = '' } = {}) {
  const filter = {};
  if (actorId) filter.actorId = actorId;
  if (from) filter.from = new Date(`${from}T00:00:00`).toISOString();
  if (to) {
    const end = new Date(`${to}T00:00:00`);
    end.setDate(end.getDate() + 1);
    filter.to = new Date(end.getTime() - 1).toISOString().replace(/Z$/, '999Z');
  }
  if (action) filter.actions = [action];
  if (mode) filter.modes = [mode];
  return Object.keys(filter).length ? filter : null;
}

// An event's sections in the record's order (that of the record and sharing pages); the API
// gives them in their codes' alphabetical order.
export function inRecordOrder(sections) {
  const place = (section) => {
    const at = ALL_SECTIONS.indexOf(section);
    return at === -1 ? ALL_SECTIONS.length : at;
  };
  return [...sections].sort((a, b) => place(a) - place(b));
}

// The mode's label beside the person's name, or null when it reads as the name itself: the
// insurer's account « Assurance Maladie » imports in mode « Assurance maladie ».
export function shownMode(who, label) {
  return readsAs(who, label) ? null : label;
}

// The « Urgence » tag before an emergency event's action, or null: not for an event that is no
// emergency, nor before an action whose name says it already (« Accès d'urgence (bris de
// glace) », not « Urgence Accès d'urgence… »), in the page's language.
export function emergencyTag(event) {
  if (!event.emergency) return null;
  const tag = t('history.emergency');
  const words = t(`action.${event.action}`).toLocaleLowerCase().split(/[^\p{L}]+/u);
  return words.includes(tag.toLocaleLowerCase()) ? null : tag;
}

// Events whose reason a person wrote (the practitioner's justification of an emergency
// access); the others' reason is a detail the service wrote (who was granted, which format).
const STATED = new Set(['BREAK_GLASS_OPENED', 'REGULATOR_ACCESS']);

// The catalogue key that introduces an event's reason.
export function reasonKey(action) {
  return STATED.has(action) ? 'history.reason' : 'history.detail';
}

// The reasons the service itself writes in the events (all from backend/audit/reasons.py),
// as stored: French, sealed in the history and never rewritten. Each known text or pattern has
// a catalogue entry, `history.said.*`, whose French is the stored text (one exception below):
// the English page words them in English, keeping their variable parts (a name, an RPPS, a
// command, a format). The professional's name is written « Name (profession, RPPS n) »
// (reasons.py's `professional`), the profession in French.
const WHO = String.raw`(?<name>.+) \((?<profession>[^,()]+), RPPS (?<rpps>\d+)\)`;
const ALLOWED = '(autorisé|refusé)';
const SAID = [
  ['RECORD_ACTIVATED', String.raw`dossier créé et activé par l'exploitant \((?<command>.+)\)`, 'activatedByOperator'],
  ['RECORD_OPENED', "identité vérifiée par le professionnel", 'identityChecked'],
  ['ACCESS_DENIED', "accès d'urgence refusé", 'emergencyRefused'],
  ['ACCESS_DENIED', "accès d'urgence fermé par le signalement du patient", 'endedByReport'],
  ['ACCESS_DENIED', "ouverture d'un dossier existant", 'existingRecord'],
  ['ACCESS_DENIED', 'ouverture refusée : identité différente', 'otherIdentity'],
  ['ACCESS_DENIED', 'import refusé : dossier fermé', 'importRefusedClosed'],
  ['ACCESS_DENIED', 'import refusé : suppression du dossier demandée', 'importRefusedDeletion'],
  ['ACCESS_DENIED', 'import refusé : date de naissance différente', 'importRefusedIdentity'],
  ['RECORD_EXPORTED', String.raw`format (?<format>\S+)`, 'exportFormat'],
  // reasons.py's OPENED_BY_IMPORT is the one written in English: its French is worded here.
  ['ENTRIES_IMPORTED', 'record opened by the import for this identity', 'openedByImport'],
  ['SHARING_CHANGED', `accès accordé à ${WHO}`, 'granted'],
  ['SHARING_CHANGED', `accès retiré à ${WHO}`, 'revoked'],
  ['SHARING_CHANGED', `${WHO} bloqué`, 'blocked'],
  ['SHARING_CHANGED', `${WHO} débloqué`, 'unblocked'],
  ['SHARING_CHANGED', 'médecin traitant retiré', 'physicianRemoved'],
  ['SHARING_CHANGED', `médecin traitant : ${WHO}`, 'physicianSet'],
  ['SHARING_CHANGED',
    `préférences d'urgence : accès du régulateur du SAMU (?<regulator>${ALLOWED}), accès en urgence \\(bris de glace\\) (?<breakGlass>${ALLOWED})`,
    'emergencyPreferences'],
  ['SECURITY_CHANGED', 'mot de passe réinitialisé', 'passwordReset'],
  ['SECURITY_CHANGED', 'mot de passe modifié', 'passwordChanged'],
  ['SECURITY_CHANGED', 'adresse e-mail modifiée', 'emailChanged'],
  ['SECURITY_CHANGED', 'numéro de téléphone modifié', 'phoneChanged'],
  ['SECURITY_CHANGED', 'codes de connexion envoyés par SMS', 'codesBySms'],
  ['SECURITY_CHANGED', 'codes de connexion envoyés par e-mail', 'codesByEmail'],
  ['SECURITY_CHANGED', "clé d'accès ajoutée", 'passkeyAdded'],
  ['SECURITY_CHANGED', "clé d'accès retirée", 'passkeyRemoved'],
  ['SECURITY_CHANGED', "clé d'accès renommée", 'passkeyRenamed'],
  ['SECURITY_CHANGED', 'coordonnées et mot de passe renouvelés', 'contactsRenewed'],
  ['SUPPORT_ACTION', 'consultation du compte par le support', 'supportRead'],
  ['SUPPORT_ACTION', 'déblocage du compte par le support', 'supportUnlocked'],
  ['SUPPORT_ACTION', "renvoi du code d'activation au contact connu", 'supportResent'],
  ['SUPPORT_ACTION', "ouverture d'une récupération de contacts", 'supportRecovery'],
  ['SUPPORT_ACTION', "déblocage de la connexion par l'exploitant", 'operatorUnlocked'],
].map(([action, pattern, key]) => ({ action, pattern: new RegExp(`^${pattern}$`, 'u'), key: `history.said.${key}` }));

// The professions as the reasons write them (backend/domain/enums.py PROFESSION_LABELS), then as
// the API names them.
const PROFESSIONS = {
  médecin: 'medecin', pharmacien: 'pharmacien', infirmier: 'infirmier', 'sage-femme': 'sage-femme',
  'chirurgien-dentiste': 'chirurgien-dentiste', kinésithérapeute: 'kinesitherapeute',
  biologiste: 'biologiste', radiologue: 'radiologue',
};

// A professional as the reason names them, in `lang`; null for a profession not known here.
function who(lang, { name, profession, rpps }) {
  const code = PROFESSIONS[profession];
  if (!code) return null;
  return translate(lang, 'history.said.who', { name, profession: translate(lang, `profession.${code}`), rpps });
}

// An emergency review's reason (reasons.py `reviewed_access`): the state the patient chose, the
// access reviewed — its kind, its opening (UTC, to the second) and the practitioner, as the sharing
// reasons name them — then the patient's own comment, if any, after « : ». Written before the
// review named its access (`reviewed`): the state, then the comment. The state, the kind and the
// profession are worded in both languages, the opening in the page's; the name and comment kept.
// The name is the shortest that a « (profession, RPPS n) » follows: the comment may hold anything.
const REVIEWED = new RegExp(
  String.raw`^(?<state>ACKNOWLEDGED|REPORTED)` +
    String.raw`(?: (?<kind>BREAK_GLASS|REGULATOR) (?<opened>\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ) ` +
    String.raw`(?<name>.+?) \((?<profession>[^,()]+), RPPS (?<rpps>\d+)\))?` +
    String.raw`(?:: (?<comment>[\s\S]*))?$`,
  'u',
);
const LOCALES = { fr: 'fr-FR', en: 'en-GB' };

// An event's reason as shown in `lang`: a practitioner's stated reason as written; a reason of
// the service's own in the page's language; any other text as stored.
// Text as it shows, for a history written before the service stored it so: without control or
// format characters (a direction override such as U+202E would show a practitioner's words, or
// a name, reversed; zero-width characters hide text), line breaks and tabs kept. Such text is
// sealed in the history and cannot be rewritten: it is cleaned where it is shown.
const HIDDEN = /[\p{Cc}\p{Cf}]/gu;
export function asShown(text) {
  return typeof text === 'string' ? text.replace(HIDDEN, (c) => (c === '\n' || c === '\t' ? c : '')) : text;
}

// The title of the entry an event names, as it shows, or null. The API gives it to the record's
// owner, read when asked (the sealed history keeps the entry's id, never its title): null once
// the entry is deleted, for an event that names none, and while the record's deletion is pending.
export function shownEntryTitle(event) {
  const title = asShown(event.entryTitle ?? '');
  return title.trim() ? title : null;
}

// An event's reason in `lang`, as it shows (see `asShown`).
export function shownReason(lang, action, reason) {
  return asShown(wordedReason(lang, action, reason));
}

function wordedReason(lang, action, reason) {
  if (!reason || STATED.has(action)) return reason;
  if (action === 'EMERGENCY_REVIEWED') {
    const review = REVIEWED.exec(reason);
    if (!review) return reason;
    let state = translate(lang, `history.said.reviewed.${review.groups.state}`);
    const { comment, kind, opened } = review.groups;
    if (kind) {
      const by = who(lang, review.groups);
      if (by === null) return reason;
      state = translate(lang, 'history.said.reviewedAccess', {
        state, kind: translate(lang, `history.said.kind.${kind}`), who: by,
        opened: formatDateTime(opened, LOCALES[lang] ?? LOCALES.fr),
      });
    }
    return comment === undefined ? state : translate(lang, 'history.said.reviewedComment', { state, comment });
  }
  for (const said of SAID) {
    if (said.action !== action) continue;
    const match = said.pattern.exec(reason);
    if (!match) continue;
    const params = { ...match.groups };
    if ('name' in params) {
      params.who = who(lang, params);
      if (params.who === null) return reason;
    }
    for (const choice of ['regulator', 'breakGlass']) {
      if (choice in params) params[choice] = translate(lang, `history.said.${params[choice] === 'autorisé' ? 'allowed' : 'refused'}`);
    }
    return translate(lang, said.key, params);
  }
  return reason;
}
