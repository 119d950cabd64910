import { useEffect, useRef, useState } from 'preact/hooks';
import { locale, said, t } from '../../i18n/index.js';
import { runMutation, useQuery } from '../../gql/hooks.js';
import { Field } from '../../components/Field.jsx';
import { Form } from '../../components/Form.jsx';
import { FreshFactor } from '../../components/FreshFactor.jsx';
import { ask } from '../../components/ConfirmDialog.jsx';
import { actionOutcome, Empty, ErrorBox, Loading, Notice } from '../../components/Status.jsx';
import { formatDateTime } from '../../lib/dates.js';
import { describeUserAgent } from '../../lib/userAgent.js';
import { createPasskey, passkeysSupported } from '../../lib/passkeys.js';
import { clearDraft } from '../../lib/draft.js';
import { forget } from '../../lib/kept.js';
import { useSending } from '../../lib/sending.js';
import { focusBack, focusIfLost } from '../../lib/focus.js';
import { Link, navigate } from '../../router.jsx';
import { session } from '../../session.js';
import {
  BEGIN_REGISTRATION, CHANGE_PASSWORD, FINISH_REGISTRATION, LOGOUT_EVERYWHERE, REMOVE_PASSKEY, RENAME_PASSKEY,
  REVOKE_SESSION, SECURITY, SET_CODE_CHANNEL,
} from './documents.js';

export function Security() {
  const query = useQuery(SECURITY);
  const [failure, setFailure] = useState(null);
  const [notice, setNotice] = useState(null);
  // Where the last action's notice or error is said: null, at the top; 'channel', beside the
  // form of the sign-in codes, at the bottom of the screen where its button is (out of sight of
  // the top on a phone); a passkey's `passkey:<id>`, in its card, where « Renommer » was pressed.
  const [place, setPlace] = useState(null);
  const [needFresh, setNeedFresh] = useState(null);
  const [passkeyName, setPasskeyName] = useState('');
  const [busy, setBusy] = useState(false);

  // Run `work`, then `after` with its result; when the server wants a fresh second factor,
  // ask for it and run both again (what follows a success must follow the retried one too).
  // `refused` says a refusal (by default at the top of the page; a form may say it beside itself).
  // The step takes the keyboard; cancelled, it goes back to the control that asked (`from`).
  const sensitive = async (work, after, refused = setFailure) => {
    const from = document.activeElement;
    setFailure(null);
    setNotice(null);
    setPlace(null);
    const result = await work();
    if (result?.code === 'FORBIDDEN') return setNeedFresh({ work, after, refused, from });
    if (result?.code) return refused(result);
    if (result && after) await after(result);
    return result;
  };

  const addPasskey = async (event) => {
    event.preventDefault();
    setBusy(true);
    await sensitive(async () => {
      const begun = await runMutation(BEGIN_REGISTRATION);
      if (begun.code) return begun;
      let credentialJson;
      try {
        credentialJson = await createPasskey(begun.data.beginPasskeyRegistration.optionsJson);
      } catch {
        setFailure({ code: null });
        setNotice(said('security.passkeyCancelled'));
        return null;
      }
      const done = await runMutation(FINISH_REGISTRATION, { credentialJson, name: passkeyName.trim() || null });
      if (!done.code) {
        setPasskeyName('');
        setNotice(said('security.passkeyAdded'));
        await query.refetch();
      }
      return done;
    });
    setBusy(false);
  };

  // One action at a time: « Fermer cette session » pressed twice closed it, then said the
  // second try's « Introuvable ».
  const [, sendOne] = useSending();
  const simple = (document, variables, message, where = null) =>
    sendOne(() => sensitive(
      () => runMutation(document, variables),
      async () => {
        await query.refetch(); // first: its button may go (a session closed), the notice then takes the focus
        setPlace(where);
        setNotice(message);
      },
      (result) => {
        setPlace(where);
        setFailure(result);
      },
    ));
  // The last action's notice or error, if it is to be said at `where`; said beside the button
  // pressed (not at the top), it comes into view when it does not take the focus.
  const saidAt = (where) => place === where && actionOutcome(notice, failure, where !== null);

  if (query.fetching && !query.data) return <Loading />;
  if (query.code) return <ErrorBox result={query} />;
  const { myPasskeys: passkeys = [], mySessions: sessions = [] } = query.data ?? {};

  return (
    <section>
      <h1>{t('security.title')}</h1>
      {saidAt(null)}
      {needFresh && (
        <FreshFactor
          onCancel={() => {
            focusBack(needFresh.from);
            setNeedFresh(null);
          }}
          onConfirmed={async () => {
            const { work, after, refused } = needFresh;
            setNeedFresh(null);
            await sensitive(work, after, refused);
            await query.refetch();
          }}
        />
      )}

      <h2>{t('security.passkeys')}</h2>
      <p>{t('security.passkeysExplain')}</p>
      {passkeys.length === 0 ? (
        <Empty>{t('security.noPasskeys')}</Empty>
      ) : (
        <ul class="cards" aria-label={t('security.passkeys')}>
          {passkeys.map((p) => (
            <PasskeyItem
              key={p.id}
              passkey={p}
              onRename={(name) => simple(RENAME_PASSKEY, { id: p.id, name }, said('common.saved'), `passkey:${p.id}`)}
              // « Enregistré. » speaks of the name saved: it goes once « Renommer » is pressed again.
              onRenaming={() => place === `passkey:${p.id}` && setNotice(null)}
              onRemove={() => simple(REMOVE_PASSKEY, { id: p.id }, said('security.passkeyRemoved'))}
              outcome={saidAt(`passkey:${p.id}`)}
            />
          ))}
        </ul>
      )}
      {passkeysSupported() ? (
        <Form onSubmit={addPasskey}>
          <Field label={t('security.passkeyName')} hint={t('security.passkeyNameHint')} value={passkeyName} onInput={setPasskeyName} maxLength={60} />
          <button type="submit" disabled={busy}>
            {busy ? t('common.wait') : t('security.addPasskey')}
          </button>
        </Form>
      ) : (
        <p>{t('security.passkeysUnsupported')}</p>
      )}

      <h2>{t('security.sessions')}</h2>
      <ul class="cards">
        {sessions.map((s) => (
          <li class="card" key={s.id}>
            {/* The session's button is described by these: each "Close this session" says which. */}
            <div id={`session-${s.id}`}>
              <p title={s.userAgent || undefined}>{describeUserAgent(s.userAgent)}</p>
              <p class="meta">
                {t('security.sessionSeen', { created: formatDateTime(s.createdAt, locale()), seen: formatDateTime(s.lastSeenAt, locale()) })}
              </p>
            </div>
            {/* The browser's own words, for whoever wants them (help on the phone, a doubt). */}
            {s.userAgent && (
              <details class="explain">
                <summary>{t('security.userAgent')}</summary>
                <p class="meta user-agent">{s.userAgent}</p>
              </details>
            )}
            {s.current ? (
              <span class="tag">{t('security.thisSession')}</span>
            ) : (
              <button type="button" class="secondary" aria-describedby={`session-${s.id}`} onClick={() => simple(REVOKE_SESSION, { id: s.id }, said('security.sessionRevoked'))}>
                {t('security.revokeSession')}
              </button>
            )}
          </li>
        ))}
      </ul>
      <p>
        <button
          type="button"
          class="danger"
          onClick={() =>
            sendOne(() => sensitive(
              () => runMutation(LOGOUT_EVERYWHERE),
              () => {
                clearDraft('login');
                forget();
                session.set(null);
                navigate('/connexion');
              },
            ))
          }
        >
          {t('security.logoutEverywhere')}
        </button>
      </p>

      <h2>{t('security.password')}</h2>
      <PasswordForm
        onChange={(values, { changed, refused }) =>
          sensitive(() => runMutation(CHANGE_PASSWORD, values), changed, refused)
        }
      />

      <h2>{t('contacts.title')}</h2>
      <p>
        <Link href="/securite/coordonnees">{t('contacts.link')}</Link>
      </p>

      <h2>{t('security.channel')}</h2>
      {/* « Enregistré. » speaks of the channel saved: it goes once another one is chosen, not saved yet. */}
      <ChannelForm
        current={query.data?.me?.codeChannel}
        onChange={(channel) => simple(SET_CODE_CHANNEL, { channel }, said('common.saved'), 'channel')}
        onChosen={() => place === 'channel' && setNotice(null)}
      />
      {saidAt('channel')}
    </section>
  );
}

// "Rename" opens the name's field, where the keyboard goes; once saved, back to "Rename", and
// « Enregistré. » (or the refusal) said in the card (`outcome`): on a phone the top is out of sight.
// "Rename" pressed again says so (`onRenaming`): the name saved is about to be changed.
function PasskeyItem({ passkey, onRename, onRenaming, onRemove, outcome }) {
  const [renaming, setRenaming] = useState(false);
  const [name, setName] = useState(passkey.name);
  const renameButton = useRef(null);
  useEffect(() => {
    if (!renaming) focusIfLost(renameButton.current);
  }, [renaming]);
  return (
    <li class="card">
      <h3>{passkey.name}</h3>
      <p class="meta">
        {t('security.passkeyCreated', { date: formatDateTime(passkey.createdAt, locale()) })}
        {passkey.lastUsedAt && <> · {t('security.passkeyUsed', { date: formatDateTime(passkey.lastUsedAt, locale()) })}</>}
      </p>
      {renaming ? (
        <Form onSubmit={(e) => (e.preventDefault(), setRenaming(false), onRename(name.trim()))}>
          <Field label={t('security.passkeyName')} value={name} onInput={setName} maxLength={60} required focus />
          <button type="submit">{t('common.save')}</button>
        </Form>
      ) : (
        <div class="actions">
          <button type="button" class="secondary" ref={renameButton} onClick={() => (onRenaming(), setRenaming(true))}>
            {t('security.rename')}
            <span class="visually-hidden"> {passkey.name}</span>
          </button>
          <button
            type="button"
            class="danger"
            onClick={async () =>
              (await ask({ message: said('security.removeConfirm'), confirmLabel: said('security.remove'), danger: true })) && onRemove()
            }
          >
            {t('security.remove')}
            <span class="visually-hidden"> {passkey.name}</span>
          </button>
        </div>
      )}
      {outcome}
    </li>
  );
}

// What was typed stays until the change is made: a refusal (a wrong current password) is said
// beside the form, where the keyboard goes, and the fields are emptied on success only (also
// after the second factor asked for on the way).
function PasswordForm({ onChange }) {
  const [currentPassword, setCurrent] = useState('');
  const [newPassword, setNew] = useState('');
  const [failure, setFailure] = useState(null);
  const [notice, setNotice] = useState(null);
  const [busy, send] = useSending();
  const changed = () => {
    setCurrent('');
    setNew('');
    setNotice(said('security.passwordChanged'));
  };
  const submit = (event) => {
    event.preventDefault();
    send(() => {
      setFailure(null);
      setNotice(null);
      return onChange({ currentPassword, newPassword }, { changed, refused: setFailure });
    });
  };
  return (
    <Form onSubmit={submit} aria-busy={busy}>
      {notice && <Notice focus="lost">{notice}</Notice>}
      <ErrorBox result={failure} focus />
      <Field label={t('security.currentPassword')} type="password" value={currentPassword} onInput={setCurrent} autocomplete="current-password" required />
      <Field label={t('reset.newPassword')} hint={t('activate.passwordHint')} type="password" value={newPassword} onInput={setNew} autocomplete="new-password" minLength={12} required />
      <button type="submit" disabled={busy}>
        {busy ? t('common.wait') : t('security.changePassword')}
      </button>
    </Form>
  );
}

// Starts from the channel the account uses (it read E-mail even where codes went by SMS).
function ChannelForm({ current, onChange, onChosen }) {
  const [channel, setChannel] = useState(current ?? 'EMAIL');
  return (
    <Form onSubmit={(e) => (e.preventDefault(), onChange(channel))} onChange={onChosen}>
      <fieldset>
        <legend>{t('activate.channel')}</legend>
        <label class="choice">
          <input type="radio" name="code-channel" checked={channel === 'EMAIL'} onChange={() => setChannel('EMAIL')} />
          {t('activate.channelEmail')}
        </label>
        <label class="choice">
          <input type="radio" name="code-channel" checked={channel === 'SMS'} onChange={() => setChannel('SMS')} />
          {t('activate.channelSms')}
        </label>
      </fieldset>
      <button type="submit">{t('common.save')}</button>
    </Form>
  );
}
