// INS/NIR: 13 characters (2A/2B allowed for Corsica) + a 2-digit key = 97 - (number mod 97).
export function normalizeIns(value) {
  return (value ?? '').replace(/[\s.-]/g, '').toUpperCase();
}

export function insKeyValid(value) {
  const ins = normalizeIns(value);
  if (!/^\d{5}(\d{2}|2A|2B)\d{6}\d{2}$/.test(ins)) return false;
  const body = ins.slice(0, 13).replace('2A', '19').replace('2B', '18');
  const key = Number(ins.slice(13));
  return 97 - Number(BigInt(body) % 97n) === key;
}
