// A phone number as people read it. Numbers are stored as typed (+33612345678, 06 12 34 56 78,
// 0033 6…): a French one is shown in national form by pairs (« 06 12 34 56 78 »), another in
// international form by groups (« +44 207 946 0958 »). What cannot be read as a number (too
// short, letters) is shown as stored. Inputs keep the stored value: this is for display only.

// Country codes are prefix-free (ITU E.164): 1 and 7 are one digit; these two-digit starts
// are whole codes; every other code is three digits.
const TWO_DIGIT = new Set([
  '20', '27', '30', '31', '32', '33', '34', '36', '39', '40', '41', '43', '44', '45', '46', '47', '48', '49',
  '51', '52', '53', '54', '55', '56', '57', '58', '60', '61', '62', '63', '64', '65', '66',
  '81', '82', '84', '86', '90', '91', '92', '93', '94', '95', '98',
]);

function countryCodeLength(digits) {
  if (digits[0] === '1' || digits[0] === '7') return 1;
  return TWO_DIGIT.has(digits.slice(0, 2)) ? 2 : 3;
}

// The digits after "+", or null when the number does not say its country (or is not one).
function international(stored) {
  if (!/^\+?[\d\s.()-]+$/.test(stored)) return null;
  const digits = stored.replace(/\D/g, '');
  if (stored.startsWith('+')) return digits;
  if (digits.startsWith('00')) return digits.slice(2);
  if (/^0[1-9]\d{8}$/.test(digits)) return `33${digits.slice(1)}`; // 06 12 34 56 78
  return null;
}

// Threes, ending with a group of two, three or four, never a lone digit (10 digits: 3 3 4).
function groups(digits) {
  const out = [];
  let rest = digits;
  for (; rest.length > 4; rest = rest.slice(3)) out.push(rest.slice(0, 3));
  return [...out, rest];
}

export function formatPhone(stored) {
  const text = typeof stored === 'string' ? stored.trim() : '';
  let digits = international(text);
  // E.164: at most 15 digits; fewer than 8 is a short or partial number, shown as typed.
  if (!digits || digits.length < 8 || digits.length > 15) return text;
  if (/^330[1-9]\d{8}$/.test(digits)) digits = `33${digits.slice(3)}`; // "+33 (0)6 12 34 56 78"
  if (/^33[1-9]\d{8}$/.test(digits)) return `0${digits.slice(2)}`.replace(/(\d{2})(?=\d)/g, '$1 ');
  const code = countryCodeLength(digits);
  return `+${digits.slice(0, code)} ${groups(digits.slice(code)).join(' ')}`;
}
