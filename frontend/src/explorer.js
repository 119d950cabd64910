// The support explorer: graphiql 5, self-hosted, same origin and same session cookie as the web page.
import 'graphiql/setup-workers/vite';
import { createElement, useEffect } from 'react';
import { createRoot } from 'react-dom/client';
import { GraphiQL } from 'graphiql';
import { pick, useGraphiQL } from '@graphiql/react';
import { createGraphiQLFetcher } from '@graphiql/toolkit';
import { language, t } from './i18n/index.js';

// The way back to the page, worded in the language chosen there.
const back = document.getElementById('back');
back.textContent = t('explorer.back');
back.lang = language.get();

const fetcher = createGraphiQLFetcher({
  url: '/graphql',
  headers: { 'X-DMP-Client': 'explorer' },
  fetch: (input, init) => fetch(input, { ...init, credentials: 'same-origin' }),
});

// The explorer's tabs (queries, variables, answers: an INS, a patient's name) are kept for
// this browser tab only, apart from anything else stored on this origin: closing the tab
// forgets them, so a shared computer keeps none for the next person. Tabs kept by earlier
// versions in localStorage are removed.
const NAMESPACE = 'dmp-explorer';
const ours = (store) => Object.keys(store).filter((key) => key.startsWith(`${NAMESPACE}:`));
for (const key of ours(localStorage)) localStorage.removeItem(key);
const storage = {
  getItem: (key) => sessionStorage.getItem(`${NAMESPACE}:${key}`),
  setItem: (key, value) => sessionStorage.setItem(`${NAMESPACE}:${key}`, value),
  removeItem: (key) => sessionStorage.removeItem(`${NAMESPACE}:${key}`),
  clear: () => {
    for (const key of ours(sessionStorage)) sessionStorage.removeItem(key);
  },
  get length() {
    return ours(sessionStorage).length;
  },
};

// Accessibility, mended from outside graphiql and monaco (whose markup we do not own).
//
// Each editor's text area is named after its editor (monaco's `ariaLabel` option; it says
// « Editor content » in all four otherwise). The completion list shows a field's name only, its
// type being in the details (Ctrl+Space): shown beside the name, the type was left out of the
// row's accessible name (what is seen must be within what is said) and too pale to be read.
const EDITOR_NAMES = {
  queryEditor: 'Operation editor',
  variableEditor: 'Variables editor',
  headerEditor: 'Headers editor',
  responseEditor: 'Result',
};
const EDITORS = pick(...Object.keys(EDITOR_NAMES));

function EditorNames() {
  const editors = useGraphiQL(EDITORS);
  useEffect(() => {
    for (const [which, name] of Object.entries(EDITOR_NAMES)) {
      editors[which]?.updateOptions({ ariaLabel: name, suggest: { showInlineDetails: false } });
    }
  }, [editors.queryEditor, editors.variableEditor, editors.headerEditor, editors.responseEditor]);
  return null;
}

function setAttribute(element, name, value) {
  if (value === null) element.removeAttribute(name);
  else if (element.getAttribute(name) !== value) element.setAttribute(name, value);
}

// graphiql's operation tabs are `<li role="tab">` holding their buttons (a control inside a
// control, without the arrow keys a tab list promises): they are made a list of buttons, the
// active one `aria-current`, and the session they show a region named by it. Each entry of the
// history, a button all named « Set active », is named after what it shows. An editor's box,
// where Tab stops before Enter goes into the editor, is described by the keyboard's hint above.
// A pane graphiql folds away (moved off the screen, transparent) is made inert, so Tab does not
// stop in it unseen. React leaves these attributes alone until it changes the same ones again,
// or adds new elements, which the observer below mends again.
function mend(root) {
  for (const list of root.querySelectorAll('.graphiql-tabs')) setAttribute(list, 'role', null);
  for (const item of root.querySelectorAll('.graphiql-tab')) {
    setAttribute(item, 'role', null);
    setAttribute(item, 'aria-selected', null);
    const button = item.querySelector('.graphiql-tab-button');
    if (button) setAttribute(button, 'aria-current', item.classList.contains('graphiql-tab-active') ? 'true' : null);
  }
  for (const entry of root.querySelectorAll('.graphiql-history-item-label')) {
    setAttribute(entry, 'aria-label', `Set active: ${entry.textContent}`);
  }
  // monaco's completion list (0.52) names as its active row `list_id_N_M`, an id it then
  // replaces on the row by `suggest-aria-id:M` (microsoft/monaco-editor#3961, mended in later
  // versions): it is pointed at the row that has the focus.
  for (const list of root.querySelectorAll('.suggest-widget .monaco-list[aria-activedescendant]')) {
    const active = list.getAttribute('aria-activedescendant');
    const row = list.querySelector('.monaco-list-row.focused[id]');
    if (row && !document.getElementById(active)) setAttribute(list, 'aria-activedescendant', row.id);
  }
  const session = root.querySelector('#graphiql-session');
  if (session) setAttribute(session, 'role', 'region');
  for (const box of root.querySelectorAll('.graphiql-editor[tabindex="0"], .result-window[tabindex="0"]')) {
    setAttribute(box, 'aria-describedby', 'explorer-keys');
  }
  for (const pane of root.querySelectorAll('.graphiql-plugin, .graphiql-editors, .graphiql-editor-tool, .graphiql-response')) {
    const folded = pane.style.opacity === '0';
    if (pane.inert !== folded) pane.inert = folded;
  }
}

const root = document.getElementById('graphiql');
new MutationObserver(() => mend(root)).observe(root, {
  subtree: true,
  childList: true,
  characterData: true,
  attributes: true,
  attributeFilter: ['id', 'role', 'aria-selected', 'aria-activedescendant', 'class', 'style'],
});

// Our own title is the page's heading (explorer.html): graphiql's logo, a link to its project
// page, is left empty.
createRoot(root).render(
  createElement(
    GraphiQL,
    { fetcher, storage, defaultQuery: '{\n  me {\n    id\n    role\n    displayName\n  }\n}\n' },
    createElement(GraphiQL.Logo, null, null),
    createElement(EditorNames),
  ),
);
