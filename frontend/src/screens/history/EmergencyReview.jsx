import { useEffect, useState } from 'preact/hooks';
import { focusBack, focusIfLost } from '../../lib/focus.js';
import { locale, t } from '../../i18n/index.js';
import { runMutation, useQuery } from '../../gql/hooks.js';
import { TextArea } from '../../components/Field.jsx';
import { ErrorBox } from '../../components/Status.jsx';
import { formatDateTime } from '../../lib/dates.js';
import { asShown } from '../../lib/history.js';
import { ACKNOWLEDGE, EMERGENCY_ACCESSES, REPORT } from './documents.js';
import { Form } from '../../components/Form.jsx';
import { useSending } from '../../lib/sending.js';

// Break-glass and regulator openings: the patient acknowledges them or reports them as unjustified.
// onReviewed: a review was recorded (the history below has a new event to show).
export function EmergencyReview({ onReviewed }) {
  const query = useQuery(EMERGENCY_ACCESSES);
  const [failure, setFailure] = useState(null);
  const [reporting, setReporting] = useState(null);
  const [comment, setComment] = useState('');
  // The review just recorded: its buttons (or its report form) are gone, the keyboard goes to its heading.
  const [reviewed, setReviewed] = useState(null);
  const list = query.data?.myEmergencyAccesses ?? [];
  // One review at a time: « C'était justifié » or « Envoyer » pressed twice sends once.
  const [, send] = useSending();
  useEffect(() => {
    if (reviewed) focusIfLost(document.getElementById(`review-title-${reviewed}`));
  }, [reviewed, list]);
  if (query.code || list.length === 0) return null;

  const act = (document, variables) =>
    send(async () => {
      setFailure(null);
      setReviewed(null);
      const result = await runMutation(document, variables);
      if (result.code) return setFailure(result);
      setReporting(null);
      setComment('');
      await Promise.all([query.refetch(), onReviewed?.()]);
      setReviewed(variables.id);
    });

  return (
    <>
      <h2>{t('review.title')}</h2>
      <ErrorBox result={failure} focus="lost" />
      <ul class="cards">
        {list.map((r) => (
          <li class="card emergency-event" key={r.id}>
            <h3 id={`review-title-${r.id}`} tabIndex={-1}>
              {t(`review.kind.${r.kind}`)}
            </h3>
            {/* Describes the buttons below: each "It was justified" says about whom. */}
            <p class="meta" id={`review-${r.id}`}>
              {formatDateTime(r.openedAt, locale())} · {asShown(r.practitionerName)} ({t(`profession.${r.profession}`)})
            </p>
            <p>{t('history.reason', { reason: asShown(r.reason) })}</p>
            <p>
              <span class="tag">{t(`review.state.${r.reviewState}`)}</span>
            </p>
            {r.reviewState === 'PENDING' && (
              <div class="actions">
                <button type="button" class="secondary" aria-describedby={`review-${r.id}`} onClick={() => act(ACKNOWLEDGE, { id: r.id })}>
                  {t('review.acknowledge')}
                </button>
                <button type="button" class="danger" id={`review-report-${r.id}`} aria-describedby={`review-${r.id}`} onClick={() => setReporting(r.id)}>
                  {t('review.report')}
                </button>
              </div>
            )}
            {reporting === r.id && (
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
        ))}
      </ul>
    </>
  );
}
