import { t, word } from '../i18n/index.js';
import { errorDetail, errorMessageKey, requestReference } from '../lib/errors.js';
import { useSaid, useShownBefore } from '../lib/focus.js';

export function Loading() {
  return (
    <p class="loading" role="status">
      {t('common.loading')}
    </p>
  );
}

export function Empty({ children }) {
  return <p class="empty">{children}</p>;
}

// Explains a failed request by its code, and by its reason when the catalogue words it (never
// the server's own text).
// focus: the keyboard goes to it when it appears, always (true: a form's own refusal, said
// beside the form) or if the control that had it is gone ('lost', lib/focus.js).
// reveal: said beside the button pressed, it comes wholly into view when it does not take the focus;
// shown again elsewhere (its card hidden by a filter, shown again), it is not read out nor
// scrolled to again (lib/focus.js, useShownBefore). Said once: focused, it is no live region;
// otherwise its text comes into its role="alert" (lib/focus.js, useSaid).
// about: what the refused action was about, a first line before the error's own text (a message
// kept by said() or a text): on /dossier « Masquer « Vaccin antigrippal » : », since a refusal
// said where a card hidden by a filter was stands beside another entry's card. None by default.
export function ErrorBox({ result, code, focus = false, reveal = false, about = null }) {
  const key = errorMessageKey(code ?? result?.code, result);
  const again = useShownBefore(key ? result : null, reveal);
  const [box, live] = useSaid(key ? focus : false, key ? result : null, { show: reveal, quiet: again });
  if (!key) return null;
  const detail = errorDetail(result);
  const reference = requestReference(result);
  return (
    <div class="error" ref={box} tabIndex={focus ? -1 : undefined}>
      <LiveText as="div" role="alert" live={live}>
        {about && (
          <p class="about">
            <strong>{word(about)}</strong>
          </p>
        )}
        <p>{t(key)}</p>
        {detail && <p>{detail}</p>}
        {reference && <p class="meta">{t('error.reference', { id: reference })}</p>}
      </LiveText>
    </div>
  );
}

// An action's outcome where its button is: its notice or its error (nothing when it has
// neither, so that it may stand in a condition). Said `beside` the button (not at the top of
// the screen), it comes into view when it does not take the focus; either takes the focus if
// the button is gone. about: what the action is about, said first in its error (ErrorBox's `about`).
export function actionOutcome(notice, failure, beside, about = null) {
  return (
    (notice || failure) && (
      <>
        {notice && (
          <Notice focus="lost" reveal={beside}>
            {notice}
          </Notice>
        )}
        <ErrorBox result={failure} focus="lost" reveal={beside} about={about} />
      </>
    )
  );
}

// `children` may be a message kept by said(): it is worded in the language of the moment.
// focus: as ErrorBox's; a notice usually takes it only if lost ('lost': the action's button is gone).
// reveal: as ErrorBox's.
export function Notice({ children, focus = false, reveal = false }) {
  const again = useShownBefore(children, reveal);
  const [box, live] = useSaid(focus, children, { show: reveal, quiet: again });
  return (
    <p class="notice" ref={box} tabIndex={focus ? -1 : undefined}>
      <LiveText role="status" live={live}>
        {word(children)}
      </LiveText>
    </p>
  );
}

// A message's text and its live region (`role`: "status" or "alert"), as useSaid (lib/focus.js)
// says: `live` false, the text alone (it took the focus, or is shown again); null, the region
// empty and the text beside it (not said yet); true, the text inside the region (announced).
// as: the region's element, "span" in a paragraph, "div" around paragraphs.
export function LiveText({ as: Region = 'span', role, live, children }) {
  return (
    <>
      {live !== false && <Region role={role}>{live ? children : null}</Region>}
      {live ? null : children}
    </>
  );
}
