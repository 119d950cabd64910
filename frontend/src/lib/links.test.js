import { describe, expect, it } from 'vitest';
import { fileLink } from './links.js';

describe("a document's link", () => {
  it('is a path of this service under /files/', () => {
    expect(fileLink('/files/6f1c2a9e-0000-4000-8000-000000000001')).toBe('/files/6f1c2a9e-0000-4000-8000-000000000001');
  });

  it('is not offered for anything else, whatever the answer held', () => {
    for (const url of [
      'javascript:alert(1)', ' javascript:alert(1)', 'JaVaScRiPt:alert(1)', 'data:text/html,<script>x</script>',
      'https://elsewhere.example/files/x', '//elsewhere.example/files/x', '/\\elsewhere.example/files/x',
      '/files/../graphql', '/files/x?y', '/graphql', '', null, undefined, 42, {},
    ]) {
      expect([url, fileLink(url)]).toEqual([url, null]);
    }
  });
});
