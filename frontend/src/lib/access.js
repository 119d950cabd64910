// Which emergency access the practitioner's view offers (DESIGN §3, rules 8-10, per section):
// 'all' when the record was refused; 'more' when it is read through a grant only, as break-glass
// (or the regulator's access) then opens the other sections the profession may see; else none —
// the treating physician reads everything, and an emergency access already open is not offered again.
export function emergencyOffer(record, refused) {
  if (!record) return refused ? 'all' : null;
  const modes = record.sectionAccess.map((a) => a.mode);
  return modes.length > 0 && modes.every((m) => m === 'GRANTED') ? 'more' : null;
}
