import { describe, expect, it } from 'vitest';
import { formatPhone } from './phone.js';

describe('formatPhone', () => {
  it('shows a French number in national form, by pairs, however it was typed', () => {
    for (const stored of ['+33612345678', '+33 6 12 34 56 78', '0612345678', '06 12 34 56 78', '06.12.34.56.78',
      '06-12-34-56-78', '0033612345678', '00 33 6 12 34 56 78', '+33 0612345678', '  +33612345678 ']) {
      expect([stored, formatPhone(stored)]).toEqual([stored, '06 12 34 56 78']);
    }
    expect(formatPhone('+33123456789')).toBe('01 23 45 67 89');
    expect(formatPhone('+33987654321')).toBe('09 87 65 43 21');
  });

  it('shows another country in international form, its code apart and the rest by groups', () => {
    expect(formatPhone('+442079460958')).toBe('+44 207 946 0958');
    expect(formatPhone('0044 20 7946 0958')).toBe('+44 207 946 0958');
    expect(formatPhone('+12125550123')).toBe('+1 212 555 0123');
    expect(formatPhone('+32470123456')).toBe('+32 470 123 456');
    expect(formatPhone('+4915123456789')).toBe('+49 151 234 567 89');
    expect(formatPhone('+41791234567')).toBe('+41 791 234 567');
    expect(formatPhone('+79161234567')).toBe('+7 916 123 4567');
    // Three-digit codes: La Réunion, Luxembourg, Morocco.
    expect(formatPhone('+262692123456')).toBe('+262 692 123 456');
    expect(formatPhone('+352621123456')).toBe('+352 621 123 456');
    expect(formatPhone('+212612345678')).toBe('+212 612 345 678');
  });

  it('never leaves a lone digit at the end', () => {
    expect(formatPhone('+3212345678')).toBe('+32 123 456 78');
    expect(formatPhone('+32123456789')).toBe('+32 123 456 789');
    expect(formatPhone('+321234567890')).toBe('+32 123 456 7890');
    expect(formatPhone('+3212345678901')).toBe('+32 123 456 789 01');
  });

  it('does not take a French number of the wrong length for one', () => {
    expect(formatPhone('+3361234567')).toBe('+33 612 345 67');
    expect(formatPhone('+336123456789')).toBe('+33 612 345 6789');
  });

  it('shows as stored what it cannot read as a whole number', () => {
    // No country said, and not a French national number.
    expect(formatPhone('612345678')).toBe('612345678');
    expect(formatPhone('12 34 56 78')).toBe('12 34 56 78');
    expect(formatPhone('0012345')).toBe('0012345');
    // Too short or too long for E.164.
    expect(formatPhone('+3312345')).toBe('+3312345');
    expect(formatPhone('+1234567890123456')).toBe('+1234567890123456');
    // Not a number at all, or a plus sign in the middle.
    expect(formatPhone('appeler Paul')).toBe('appeler Paul');
    expect(formatPhone('06 12 34 56 78 (soir)')).toBe('06 12 34 56 78 (soir)');
    expect(formatPhone('06+12345678')).toBe('06+12345678');
    expect(formatPhone('------')).toBe('------');
  });

  it('takes odd input without failing', () => {
    expect(formatPhone('')).toBe('');
    expect(formatPhone('   ')).toBe('');
    expect(formatPhone(null)).toBe('');
    expect(formatPhone(undefined)).toBe('');
    expect(formatPhone(33612345678)).toBe('');
    const long = '0'.repeat(100000);
    expect(formatPhone(long)).toBe(long);
  });
});
