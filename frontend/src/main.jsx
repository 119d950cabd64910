import { render } from 'preact';
import { App } from './app.jsx';
import { language } from './i18n/index.js';

document.documentElement.lang = language.get();
render(<App />, document.getElementById('app'));
