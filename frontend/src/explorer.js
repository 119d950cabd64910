// The support explorer: graphiql 5, self-hosted, same origin and same session cookie as the web page.
import 'graphiql/setup-workers/vite';
import { createElement } from 'react';
import { createRoot } from 'react-dom/client';
import { GraphiQL } from 'graphiql';
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

createRoot(document.getElementById('graphiql')).render(
  createElement(GraphiQL, { fetcher, storage, defaultQuery: '{\n  me {\n    id\n    role\n    displayName\n  }\n}\n' }),
);
