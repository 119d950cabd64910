import { describe, expect, it } from 'vitest';
import { blockingOf, readAgain, replaceNode, reviewActions } from './reviews.js';
import { appendPage, nodes } from './paging.js';
import { EMERGENCY_REVIEWS } from '../screens/history/documents.js';
import fr from '../i18n/fr.js';
import en from '../i18n/en.js';
import { translate } from '../i18n/index.js';

// 25 accesses newest first, served 20 a page as myEmergencyAccessReviews does (cursor: a position).
const ALL = Array.from({ length: 25 }, (_, i) => ({ id: `a${i}`, reviewState: 'PENDING' }));
function page(after, all = ALL, size = 20) {
  const start = after ? all.findIndex((n) => n.id === after) + 1 : 0;
  const slice = all.slice(start, start + size);
  return {
    totalCount: all.length,
    pageInfo: { hasNextPage: start + size < all.length, endCursor: slice.length ? slice.at(-1).id : null },
    edges: slice.map((node) => ({ cursor: node.id, node })),
  };
}

describe('emergency reviews: what each state offers', () => {
  it('a pending access is acknowledged or reported', () => {
    expect(reviewActions('PENDING')).toEqual({ acknowledge: true, report: true, block: false });
  });
  it('an acknowledged access may still be reported, not acknowledged again', () => {
    expect(reviewActions('ACKNOWLEDGED')).toEqual({ acknowledge: false, report: true, block: false });
  });
  it('a report stands: neither button', () => {
    expect(reviewActions('REPORTED')).toMatchObject({ acknowledge: false, report: false });
    expect(reviewActions('SOMETHING_NEW')).toEqual({ acknowledge: false, report: false, block: false });
  });
  it('a reported access says how to block its practitioner, who may open another one', () => {
    expect(reviewActions('REPORTED').block).toBe(true);
    expect(reviewActions('PENDING').block).toBe(false);
    expect(reviewActions('ACKNOWLEDGED').block).toBe(false);
  });
});

describe('emergency reviews: blocking a reported practitioner', () => {
  const sharing = { treatingPhysician: { id: 'doc' }, blocked: [{ id: 'gone' }] };
  it('blocked already, the treating physician, or anyone else, by the id the review gives', () => {
    const shared = { status: 'ACTIVE', sharing };
    expect(blockingOf(shared, 'gone')).toBe('blocked');
    expect(blockingOf(shared, 'doc')).toBe('treating');
    expect(blockingOf(shared, 'other')).toBe('block');
    expect(blockingOf({ status: 'ACTIVE', sharing: { treatingPhysician: null, blocked: [] } }, 'doc')).toBe('block');
  });
  it('not known, or a record whose sharing cannot change: the card says where to block them', () => {
    expect(blockingOf(null, 'other')).toBe(null);
    expect(blockingOf({ status: 'ACTIVE', sharing: null }, 'other')).toBe(null);
    expect(blockingOf({ status: 'CLOSED', sharing }, 'other')).toBe(null);
    expect(blockingOf({ status: 'ACTIVE', sharing }, undefined)).toBe(null);
  });
});

describe('emergency reviews: pages', () => {
  it('are asked 20 at a time, newest first, with the cursor of the last page', () => {
    expect(EMERGENCY_REVIEWS).toMatch(/myEmergencyAccessReviews\(first: 20, after: \$after\)/);
    expect(EMERGENCY_REVIEWS).toMatch(/pageInfo \{ hasNextPage endCursor \}/);
    expect(EMERGENCY_REVIEWS).toMatch(/totalCount/);
  });

  it('« Afficher plus » adds the next page after the first: 20 then 25, no more to ask', () => {
    const first = page(null);
    expect(nodes(first)).toHaveLength(20);
    expect(first.pageInfo.hasNextPage).toBe(true);
    const both = appendPage(first, page(first.pageInfo.endCursor));
    expect(nodes(both).map((n) => n.id)).toEqual(ALL.map((n) => n.id));
    expect(both.pageInfo.hasNextPage).toBe(false);
    expect(both.totalCount).toBe(25);
  });

  it('an access reviewed is replaced where it is, on any page shown, the rest unchanged', () => {
    const shown = appendPage(page(null), page('a19'));
    const reviewed = replaceNode(shown, { id: 'a22', reviewState: 'REPORTED' });
    expect(nodes(reviewed)).toHaveLength(25);
    expect(nodes(reviewed)[22]).toEqual({ id: 'a22', reviewState: 'REPORTED' });
    expect(nodes(reviewed).filter((n) => n.reviewState !== 'PENDING')).toHaveLength(1);
    expect(reviewed.pageInfo).toBe(shown.pageInfo);
    expect(nodes(shown)[22].reviewState).toBe('PENDING'); // not changed in place
    expect(replaceNode(shown, { id: 'elsewhere', reviewState: 'REPORTED' }).edges.map((e) => e.node)).toEqual(nodes(shown));
  });

  it('read again, as many as were shown: every page up to them, with what changed meanwhile', async () => {
    const now = ALL.map((n) => (n.id === 'a21' ? { ...n, reviewState: 'REPORTED' } : n));
    const asked = [];
    const read = await readAgain(async (after) => (asked.push(after), page(after, now)), 25);
    expect(asked).toEqual([null, 'a19']);
    expect(nodes(read)).toHaveLength(25);
    expect(nodes(read)[21].reviewState).toBe('REPORTED');
    // Only the first page shown: only the first page read.
    const again = [];
    expect(nodes(await readAgain(async (after) => (again.push(after), page(after, now)), 20))).toHaveLength(20);
    expect(again).toEqual([null]);
  });

  it('a failed read again answers the failure, nothing else', async () => {
    const failed = await readAgain(async (after) => (after ? { code: 'NETWORK' } : page(null)), 25);
    expect(failed).toEqual({ code: 'NETWORK' });
  });
});

describe('emergency reviews: words', () => {
  it('count the accesses and say why an access reported elsewhere is not acknowledged', () => {
    expect(translate('fr', 'review.count', { n: 25 })).toBe("25 accès d'urgence");
    expect(translate('en', 'review.count', { n: 1 })).toBe('1 emergency access');
    expect(translate('en', 'review.count', { n: 25 })).toBe('25 emergency accesses');
    expect(fr['review.alreadyReported']).toContain('déjà été signalé');
    expect(en['review.alreadyReported']).toContain('already been reported');
  });

  it('say an access reported on the page is closed', () => {
    expect(fr['review.closed']).toBe('Cet accès est fermé : il ne permet plus de consulter votre dossier.');
    expect(en['review.closed']).toBe('This access is closed: it no longer gives access to your record.');
  });

  // /partage's own words, so that the patient finds there what the card names.
  it("say how to block a reported practitioner, in /partage's words", () => {
    const quoted = { fr: (s) => `« ${s} »`, en: (s) => `“${s}”` };
    for (const [lang, words] of [['fr', fr], ['en', en]]) {
      const q = quoted[lang];
      expect(words['review.stillAllowed']).toContain(q(words['sharing.title']));
      expect(words['review.stillAllowed']).toContain(q(words['sharing.block']));
      expect(words['review.stillAllowed']).toContain(q(words['sharing.treating']));
      const link = translate(lang, 'review.toSharing', { who: 'Dr Martin' });
      expect(link).toContain(q(words['sharing.title']));
      expect(link).toContain('Dr Martin');
    }
    expect(fr['review.stillAllowed']).toMatch(/^Ce signalement n'empêche pas ce professionnel d'ouvrir un nouvel accès d'urgence/);
    expect(fr['review.stillAllowed']).toContain('sauf si vous l\'avez bloqué');
    expect(fr['review.stillAllowed']).toContain('Un médecin traitant ne peut pas être bloqué');
    expect(en['review.stillAllowed']).toContain('unless you have blocked them');
    expect(en['review.stillAllowed']).toContain('A treating physician cannot be blocked');
  });

  it("say, on the card, where a treating physician is named none and where a block is lifted", () => {
    const quoted = { fr: (s) => `« ${s} »`, en: (s) => `“${s}”` };
    for (const [lang, words] of [['fr', fr], ['en', en]]) {
      const q = quoted[lang];
      for (const key of ['review.isTreating', 'review.toTreating']) {
        expect(words[key]).toContain(q(words['sharing.title']));
        expect(words[key]).toContain(q(words['sharing.treating']));
      }
      expect(words['review.isBlocked']).toContain(q(words['sharing.title']));
      expect(words['review.isBlocked']).toMatch(words['sharing.isBlocked'].replace(/\.$/, ''));
      const done = translate(lang, 'review.blockedDone', { who: 'Dr Martin' });
      expect(done).toContain('Dr Martin');
      expect(done).toContain(q(words['sharing.title']));
      expect(translate(lang, 'review.toUnblock', { who: 'Dr Martin' })).toContain(q(words['sharing.title']));
    }
  });
});
