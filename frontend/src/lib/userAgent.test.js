import { describe, expect, it } from 'vitest';
import { translate } from '../i18n/index.js';
import { describeUserAgent, parseUserAgent } from './userAgent.js';

// Agents as browsers send them (current versions, and the older forms still met).
const AGENTS = {
  chromeWindows: 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36',
  chromeMac: 'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36',
  chromeLinux: 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36',
  headlessChrome: 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/131.0.0.0 Safari/537.36',
  chromeAndroid: 'Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Mobile Safari/537.36',
  chromeIphone: 'Mozilla/5.0 (iPhone; CPU iPhone OS 17_7 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) CriOS/131.0.6778.73 Mobile/15E148 Safari/604.1',
  chromeOs: 'Mozilla/5.0 (X11; CrOS x86_64 14541.0.0) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36',
  edgeWindows: 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36 Edg/131.0.2903.86',
  edgeMac: 'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36 Edg/131.0.2903.86',
  edgeAndroid: 'Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Mobile Safari/537.36 EdgA/131.0.2903.87',
  edgeIphone: 'Mozilla/5.0 (iPhone; CPU iPhone OS 17_7 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.0 EdgiOS/131.2903.86 Mobile/15E148 Safari/605.1.15',
  edgeLegacy: 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/70.0.3538.102 Safari/537.36 Edge/18.19045',
  firefoxWindows: 'Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0',
  firefoxMac: 'Mozilla/5.0 (Macintosh; Intel Mac OS X 14.7; rv:133.0) Gecko/20100101 Firefox/133.0',
  firefoxLinux: 'Mozilla/5.0 (X11; Ubuntu; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0',
  firefoxAndroid: 'Mozilla/5.0 (Android 15; Mobile; rv:133.0) Gecko/133.0 Firefox/133.0',
  firefoxIphone: 'Mozilla/5.0 (iPhone; CPU iPhone OS 17_7 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) FxiOS/133.0 Mobile/15E148 Safari/605.1.15',
  safariMac: 'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Safari/605.1.15',
  safariIphone: 'Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1',
  safariIpad: 'Mozilla/5.0 (iPad; CPU OS 16_7 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/16.6 Mobile/15E148 Safari/604.1',
  samsungAndroid: 'Mozilla/5.0 (Linux; Android 14; SAMSUNG SM-S918B) AppleWebKit/537.36 (KHTML, like Gecko) SamsungBrowser/27.0 Chrome/125.0.0.0 Mobile Safari/537.36',
  operaWindows: 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36 OPR/115.0.0.0',
  operaMac: 'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36 OPR/115.0.0.0',
  operaAndroid: 'Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0.0.0 Mobile Safari/537.36 OPR/86.0.0.0',
  operaMini: 'Opera/9.80 (Android; Opera Mini/36.2.2254/119.132; U; id) Presto/2.12.423 Version/12.16',
  internetExplorer: 'Mozilla/5.0 (Windows NT 6.1; WOW64; Trident/7.0; rv:11.0) like Gecko',
};

const parsed = (name) => parseUserAgent(AGENTS[name]);

describe('parseUserAgent', () => {
  it('tells Chrome on each system, headless included', () => {
    expect(parsed('chromeWindows')).toEqual({ browser: 'Chrome', os: 'Windows' });
    expect(parsed('chromeMac')).toEqual({ browser: 'Chrome', os: 'macOS' });
    expect(parsed('chromeLinux')).toEqual({ browser: 'Chrome', os: 'Linux' });
    expect(parsed('headlessChrome')).toEqual({ browser: 'Chrome', os: 'Linux' });
    expect(parsed('chromeAndroid')).toEqual({ browser: 'Chrome', os: 'Android' });
    expect(parsed('chromeIphone')).toEqual({ browser: 'Chrome', os: 'iPhone' });
    expect(parsed('chromeOs')).toEqual({ browser: 'Chrome', os: 'ChromeOS' });
  });

  it('tells Edge, though it also says Chrome and Safari', () => {
    expect(parsed('edgeWindows')).toEqual({ browser: 'Edge', os: 'Windows' });
    expect(parsed('edgeMac')).toEqual({ browser: 'Edge', os: 'macOS' });
    expect(parsed('edgeAndroid')).toEqual({ browser: 'Edge', os: 'Android' });
    expect(parsed('edgeIphone')).toEqual({ browser: 'Edge', os: 'iPhone' });
    expect(parsed('edgeLegacy')).toEqual({ browser: 'Edge', os: 'Windows' });
  });

  it('tells Firefox on each system', () => {
    expect(parsed('firefoxWindows')).toEqual({ browser: 'Firefox', os: 'Windows' });
    expect(parsed('firefoxMac')).toEqual({ browser: 'Firefox', os: 'macOS' });
    expect(parsed('firefoxLinux')).toEqual({ browser: 'Firefox', os: 'Linux' });
    expect(parsed('firefoxAndroid')).toEqual({ browser: 'Firefox', os: 'Android' });
    expect(parsed('firefoxIphone')).toEqual({ browser: 'Firefox', os: 'iPhone' });
  });

  it('tells Safari on a Mac, an iPhone and an iPad (not macOS for "like Mac OS X")', () => {
    expect(parsed('safariMac')).toEqual({ browser: 'Safari', os: 'macOS' });
    expect(parsed('safariIphone')).toEqual({ browser: 'Safari', os: 'iPhone' });
    expect(parsed('safariIpad')).toEqual({ browser: 'Safari', os: 'iPad' });
  });

  it('tells Samsung Internet and Opera, though they also say Chrome', () => {
    expect(parsed('samsungAndroid')).toEqual({ browser: 'Samsung Internet', os: 'Android' });
    expect(parsed('operaWindows')).toEqual({ browser: 'Opera', os: 'Windows' });
    expect(parsed('operaMac')).toEqual({ browser: 'Opera', os: 'macOS' });
    expect(parsed('operaAndroid')).toEqual({ browser: 'Opera', os: 'Android' });
    expect(parsed('operaMini')).toEqual({ browser: 'Opera', os: 'Android' });
    expect(parsed('internetExplorer')).toEqual({ browser: 'Internet Explorer', os: 'Windows' });
  });

  it('leaves unknown what the agent does not say', () => {
    // An app's web view on iOS: neither "Version/" nor "Safari/".
    const webView = 'Mozilla/5.0 (iPhone; CPU iPhone OS 17_7 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148';
    expect(parseUserAgent(webView)).toEqual({ browser: null, os: 'iPhone' });
    expect(parseUserAgent('curl/8.11.0')).toEqual({ browser: null, os: null });
    expect(parseUserAgent('python-httpx/0.28.1')).toEqual({ browser: null, os: null });
    // Cut at the 200 characters the server keeps, before any browser's name.
    expect(parseUserAgent('Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36')).toEqual({ browser: null, os: 'Windows' });
  });

  it('takes odd input without failing', () => {
    for (const odd of ['', '   ', null, undefined, 42, {}, ['Chrome/1'], '<script>alert(1)</script>', '\u0000\u202e', 'Chrome', 'WindowsPhoneish', 'Darwin/23.0']) {
      expect(parseUserAgent(odd)).toEqual({ browser: null, os: null });
    }
    // Long, and made to make a careless pattern backtrack: still answered.
    expect(parseUserAgent(`${'Version/1 '.repeat(20000)}${'Mozilla/5.0 ('.repeat(20000)}`)).toEqual({ browser: null, os: null });
    expect(parseUserAgent(`${AGENTS.firefoxLinux}${' x'.repeat(50000)}`)).toEqual({ browser: 'Firefox', os: 'Linux' });
  });
});

describe('describeUserAgent', () => {
  const fr = (key, params) => translate('fr', key, params);
  const en = (key, params) => translate('en', key, params);

  it('says the browser and the system in words', () => {
    expect(describeUserAgent(AGENTS.chromeAndroid, fr)).toBe('Chrome sur Android');
    expect(describeUserAgent(AGENTS.firefoxWindows, fr)).toBe('Firefox sur Windows');
    expect(describeUserAgent(AGENTS.safariIphone, fr)).toBe('Safari sur iPhone');
    expect(describeUserAgent(AGENTS.samsungAndroid, fr)).toBe('Samsung Internet sur Android');
    expect(describeUserAgent(AGENTS.safariIphone, en)).toBe('Safari on iPhone');
  });

  it('says what it knows, and « Navigateur inconnu » for the rest', () => {
    expect(describeUserAgent('Mozilla/5.0 (Windows NT 10.0; Win64; x64)', fr)).toBe('Navigateur inconnu sur Windows');
    expect(describeUserAgent('Mozilla/5.0 (Windows NT 10.0; Win64; x64)', en)).toBe('Unknown browser on Windows');
    expect(describeUserAgent('Firefox/133.0', fr)).toBe('Firefox');
    expect(describeUserAgent('', fr)).toBe('Navigateur inconnu');
    expect(describeUserAgent(null, fr)).toBe('Navigateur inconnu');
    expect(describeUserAgent('x'.repeat(100000), en)).toBe('Unknown browser');
  });
});
