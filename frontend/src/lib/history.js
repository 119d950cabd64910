// The history filter as the API takes it: a period of days becomes [from 00:00, to+1 00:00) in local time;
// `actorId` keeps one person's events only.
export function historyFilter({ from = '', to = '', action = '', mode = '', actorId = '' } = {}) {
  const filter = {};
  if (actorId) filter.actorId = actorId;
  if (from) filter.from = new Date(`${from}T00:00:00`).toISOString();
  if (to) {
    const end = new Date(`${to}T00:00:00`);
    end.setDate(end.getDate() + 1);
    filter.to = end.toISOString();
  }
  if (action) filter.actions = [action];
  if (mode) filter.modes = [mode];
  return Object.keys(filter).length ? filter : null;
}

// Events whose reason a person wrote (the practitioner's justification of an emergency
// access); the others' reason is a detail the service wrote (who was granted, which format).
const STATED = new Set(['BREAK_GLASS_OPENED', 'REGULATOR_ACCESS']);

// The catalogue key that introduces an event's reason.
export function reasonKey(action) {
  return STATED.has(action) ? 'history.reason' : 'history.detail';
}
