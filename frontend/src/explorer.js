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

// Keep the explorer's saved tabs apart from anything else stored on this origin.
const NAMESPACE = 'dmp-explorer';
const storage = {
  getItem: (key) => localStorage.getItem(`${NAMESPACE}:${key}`),
  setItem: (key, value) => localStorage.setItem(`${NAMESPACE}:${key}`, value),
  removeItem: (key) => localStorage.removeItem(`${NAMESPACE}:${key}`),
  clear: () => {
    for (const key of Object.keys(localStorage)) {
      if (key.startsWith(`${NAMESPACE}:`)) localStorage.removeItem(key);
    }
  },
  get length() {
    return Object.keys(localStorage).filter((k) => k.startsWith(`${NAMESPACE}:`)).length;
  },
};

createRoot(document.getElementById('graphiql')).render(
  createElement(GraphiQL, { fetcher, storage, defaultQuery: '{\n  me {\n    id\n    role\n    displayName\n  }\n}\n' }),
);
