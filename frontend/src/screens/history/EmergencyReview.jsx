import { useEffect, useRef, useState } from 'preact/hooks';
import { focusBack, focusIfLost, useSaid } from '../../lib/focus.js';
import { locale, said, t } from '../../i18n/index.js';
import { runMutation, runQuery, useQuery } from '../../gql/hooks.js';
import { TextArea } from '../../components/Field.jsx';
import { ErrorBox, LiveText, Notice } from '../../components/Status.jsx';
import { ask } from '../../components/ConfirmDialog.jsx';
import { useConnectionCount } from '../../components/ListCount.jsx';
import { formatDateTime } from '../../lib/dates.js';
import { asShown } from '../../lib/history.js';
import { appendPage, nodes } from '../../lib/paging.js';
import { blockingOf, readAgain, replaceNode, reviewActions } from '../../lib/reviews.js';
import { ACKNOWLEDGE, EMERGENCY_REVIEWS, REPORT, REVIEW_SHARING } from './documents.js';
import { BLOCK } from '../sharing/documents.js';
import { TREATING_ANCHOR } from '../sharing/Sharing.jsx';
import { Form } from '../../components/Form.jsx';
import { Link } from '../../router.jsx';
import { useSending } from '../../lib/sending.js';

// Break-glass and regulator openings, newest first, 20 at a time (« Afficher plus »): the patient
// acknowledges a pending one or reports it as unjustified; an acknowledged one may still be
// reported; a report stands. A report ends the access if it is still open: the access reported
// on this page says it is closed. A reported access says that its practitioner may still open
// another one unless blocked, and offers « Bloquer ce professionnel » (with /partage's question),
// or says they are blocked already, or that a treating physician cannot be until another or none
// is named on /partage (the patient's sharing, read once for the screen). Blocked from a card,
// the card says so and where the block is lifted (/partage).
// onReviewed: a review was recorded (the history below has a new event to show).
export function EmergencyReview({ onReviewed }) {
  const query = useQuery(EMERGENCY_REVIEWS);
  // The accesses as shown once changed from the first page: pages added, reviews applied in place.
  const [changed, setChanged] = useState(null);
  // A refusal, said where its button is: { id, result } in the access's card, or { more, result }
  // above « Afficher plus » (on a phone the top of the list is out of sight).
  const [failure, setFailure] = useState(null);
  const [reporting, setReporting] = useState(null);
  const [comment, setComment] = useState('');
  // The review just recorded: its buttons (or its report form) are gone, the keyboard goes to its heading.
  const [reviewed, setReviewed] = useState(null);
  // The accesses reported on this page: the server ended each one still open, so each says it is
  // closed (its end is the server's, which the device's clock may not agree with).
  const [closed, setClosed] = useState(() => new Set());
  // Whom the patient blocked, and their treating physician: read once for the screen, then as a
  // block from a card answers it. Not known (a failed read): the cards say how to block on /partage.
  const shared = useQuery(REVIEW_SHARING);
  const [sharing, setSharing] = useState(null);
  const sharingNow = {
    status: shared.data?.myRecordStatus?.status,
    sharing: sharing ?? shared.data?.mySharing,
  };
  // The access whose card just blocked its practitioner, and that block's notice (said once, the
  // keyboard on it: the button is gone); gone when another action starts.
  const [blockedHere, setBlockedHere] = useState(null);
  const connection = changed ?? query.data?.myEmergencyAccessReviews;
  const list = nodes(connection);
  // One review at a time: « C'était justifié » or « Envoyer » pressed twice sends once; one page
  // at a time: « Afficher plus » pressed twice asks once.
  const [, send] = useSending();
  const [, sendMore] = useSending();
  // The list's version: a page asked for before the list was read again is not added to it.
  const version = useRef(0);
  // The count of accesses, said once (components/ListCount.jsx): the keyboard goes to it only
  // after « Afficher plus » (a review's heading or refusal takes it otherwise).
  const [more, setMore] = useState(0);
  const count = useConnectionCount(connection, 'review.count', more ? 'lost' : false);
  useEffect(() => {
    if (reviewed) focusIfLost(document.getElementById(`review-title-${reviewed}`));
  }, [reviewed, list]);
  if (query.code || list.length === 0) return null;

  const base = connection;
  const loadMore = () =>
    sendMore(async () => {
      setFailure(null);
      setReviewed(null);
      setBlockedHere(null);
      const mine = version.current;
      const result = await runQuery(EMERGENCY_REVIEWS, { after: connection.pageInfo.endCursor });
      if (mine !== version.current) return;
      if (result.code) return setFailure({ more: true, result });
      setChanged((shown) => appendPage(shown ?? base, result.data.myEmergencyAccessReviews));
      setMore((n) => n + 1);
    });

  // The accesses shown, read again from the server (as many as were shown). Should that read
  // fail, the access refused is shown reported, which is what the refusal says it is.
  const refresh = async (id) => {
    const mine = ++version.current;
    const read = await readAgain(async (after) => {
      const result = await runQuery(EMERGENCY_REVIEWS, { after });
      return result.code ? result : result.data.myEmergencyAccessReviews;
    }, list.length);
    if (mine !== version.current) return;
    if (!read.code) return setChanged(read);
    const node = list.find((r) => r.id === id);
    if (node) setChanged((shown) => replaceNode(shown ?? base, { ...node, reviewState: 'REPORTED' }));
  };

  const act = (document, variables) =>
    send(async () => {
      setFailure(null);
      setReviewed(null);
      setBlockedHere(null);
      const result = await runMutation(document, variables);
      if (result.code === 'CONFLICT') {
        // Reported meanwhile (another tab, another device): a report stands. The access is read
        // again, and the page says why it was not acknowledged.
        await Promise.all([refresh(variables.id), onReviewed?.()]);
        return setFailure({ id: variables.id, said: 'review.alreadyReported' });
      }
      if (result.code) return setFailure({ id: variables.id, result });
      setReporting(null);
      setComment('');
      const node = result.data.acknowledgeEmergencyAccess ?? result.data.reportEmergencyAccess;
      setChanged((shown) => replaceNode(shown ?? base, node));
      if (result.data.reportEmergencyAccess) setClosed((ids) => new Set(ids).add(variables.id));
      await onReviewed?.();
      setReviewed(variables.id);
    });

  // Blocks the practitioner of a reported access, once confirmed as on /partage. The block ends
  // their accesses still open: the accesses shown, and the history, are read again.
  const block = async (r) => {
    setFailure(null);
    setReviewed(null);
    setBlockedHere(null);
    const who = asShown(r.practitionerName);
    if (!(await ask({ message: said('sharing.blockConfirm', { who }), confirmLabel: said('sharing.block'), danger: true }))) return;
    send(async () => {
      const result = await runMutation(BLOCK, { practitionerId: r.practitionerId });
      if (result.code) {
        // Named treating physician, or the record closed, meanwhile: the sharing is read again.
        setSharing(null);
        shared.refetch();
        return setFailure({ id: r.id, result });
      }
      setSharing(result.data.blockPractitioner.sharing);
      setBlockedHere({ id: r.id, notice: said('review.blockedDone', { who }) });
      await Promise.all([refresh(r.id), onReviewed?.()]);
    });
  };

  // The report's form, under the access's buttons (the comment of another access's report is dropped).
  const report = (r) => {
    setFailure(null);
    setReviewed(null);
    setBlockedHere(null);
    if (reporting !== r.id) setComment('');
    setReporting(r.id);
  };

  return (
    <section class="emergency-review" aria-labelledby="review-heading">
      <h2 id="review-heading">{t('review.title')}</h2>
      {count}
      <ul class="cards emergency-reviews">
        {list.map((r) => {
          const can = reviewActions(r.reviewState);
          const ended = r.reviewState === 'REPORTED' && closed.has(r.id);
          const blocking = can.block ? blockingOf(sharingNow, r.practitionerId) : null;
          return (
            <li class="card emergency-event" key={r.id}>
              {/* Once reported here, the heading the keyboard goes to says the access is closed (what a
                  report does not stop comes next in the card, read on from there). */}
              <h3 id={`review-title-${r.id}`} tabIndex={-1} aria-describedby={ended ? `review-closed-${r.id}` : undefined}>
                {t(`review.kind.${r.kind}`)}
              </h3>
              {/* Describes the buttons below: each "It was justified" says about whom. */}
              <p class="meta" id={`review-${r.id}`}>
                {formatDateTime(r.openedAt, locale())} · {asShown(r.practitionerName)} ({t(`profession.${r.profession}`)})
              </p>
              <p>{t('history.reason', { reason: asShown(r.reason) })}</p>
              {/* Its end as the server keeps it: the time it was to end, or the report's that ended it. */}
              {r.expiresAt && <p class="meta">{t('review.ends', { when: formatDateTime(r.expiresAt, locale()) })}</p>}
              <p>
                <span class="tag">{t(`review.state.${r.reviewState}`)}</span>
              </p>
              {ended && (
                <p class="notice" id={`review-closed-${r.id}`}>
                  {t('review.closed')}
                </p>
              )}
              {/* A report does not stop its practitioner from opening another emergency access: only
                  a block does, offered here unless they are blocked already or the patient's treating
                  physician, who cannot be. The sharing not known yet: nothing said; not known at all
                  (or not to be changed): how to block them on /partage. */}
              {can.block && blocking === 'block' && (
                <>
                  <p>{t('review.blockable')}</p>
                  <div class="actions">
                    <button type="button" class="danger" aria-describedby={`review-${r.id}`} onClick={() => block(r)}>
                      {t('review.block')}
                    </button>
                  </div>
                </>
              )}
              {can.block && blocking === 'blocked' && blockedHere?.id === r.id && (
                <>
                  <Notice focus="lost">{blockedHere.notice}</Notice>
                  <p>
                    <Link href="/partage">{t('review.toUnblock', { who: asShown(r.practitionerName) })}</Link>
                  </p>
                </>
              )}
              {can.block && blocking === 'blocked' && blockedHere?.id !== r.id && <p>{t('review.isBlocked')}</p>}
              {can.block && blocking === 'treating' && (
                <>
                  <p>{t('review.isTreating')}</p>
                  <p>
                    <Link href={`/partage#${TREATING_ANCHOR}`}>{t('review.toTreating')}</Link>
                  </p>
                </>
              )}
              {can.block && blocking === null && !shared.fetching && (
                <>
                  <p>{t('review.stillAllowed')}</p>
                  <p>
                    <Link href="/partage">{t('review.toSharing', { who: asShown(r.practitionerName) })}</Link>
                  </p>
                </>
              )}
              {failure?.id === r.id && <Refused failure={failure} />}
              {(can.acknowledge || can.report) && (
                <div class="actions">
                  {can.acknowledge && (
                    <button type="button" class="secondary" aria-describedby={`review-${r.id}`} onClick={() => act(ACKNOWLEDGE, { id: r.id })}>
                      {t('review.acknowledge')}
                    </button>
                  )}
                  {can.report && (
                    <button type="button" class="danger" id={`review-report-${r.id}`} aria-describedby={`review-${r.id}`} onClick={() => report(r)}>
                      {t('review.report')}
                    </button>
                  )}
                </div>
              )}
              {reporting === r.id && can.report && (
                <Form onSubmit={(e) => (e.preventDefault(), act(REPORT, { id: r.id, comment: comment.trim() || null }))}>
                  <TextArea label={t('review.comment')} value={comment} onInput={setComment} focus />
                  <div class="actions">
                    <button type="submit" class="danger">
                      {t('review.sendReport')}
                    </button>
                    {/* Nothing sent: back to « Signaler comme injustifié », still there. */}
                    <button
                      type="button"
                      class="secondary"
                      onClick={() => {
                        setReporting(null);
                        setComment('');
                        focusBack(document.getElementById(`review-report-${r.id}`));
                      }}
                    >
                      {t('common.cancel')}
                    </button>
                  </div>
                </Form>
              )}
            </li>
          );
        })}
      </ul>
      {failure?.more && <ErrorBox result={failure.result} focus="lost" />}
      {connection.pageInfo.hasNextPage && (
        <button type="button" class="secondary" onClick={loadMore}>
          {t('common.more')}
          <span class="visually-hidden"> {t('review.moreOf')}</span>
        </button>
      )}
    </section>
  );
}

// A review refused: by its code (ErrorBox), or in the page's own words when it says more (an
// access reported elsewhere); the keyboard on it if the button pressed is gone, else announced
// (said once: lib/focus.js, useSaid).
function Refused({ failure }) {
  const [box, live] = useSaid(failure.said ? 'lost' : false, failure);
  if (!failure.said) return <ErrorBox result={failure.result} focus="lost" />;
  return (
    <div class="error" ref={box} tabIndex={-1}>
      <LiveText as="div" role="alert" live={live}>
        <p>{t(failure.said)}</p>
      </LiveText>
    </div>
  );
}
