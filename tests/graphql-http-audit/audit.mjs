// Runs graphql-http's GraphQL-over-HTTP server audits against a running server and prints
// one JSON object: {"results": [{id, name, status, reason?, statusCode?}]}.
// Usage: node audit.mjs http://localhost:PORT/graphql
import { serverAudits } from 'graphql-http';

const url = process.argv[2];
if (!url) {
  console.error('usage: node audit.mjs <graphql url>');
  process.exit(2);
}

const results = [];
for (const audit of serverAudits({ url, fetchFn: fetch })) {
  const result = await audit.fn();
  const entry = { id: result.id, name: result.name, status: result.status };
  if (result.status !== 'ok') {
    entry.reason = result.reason;
    entry.statusCode = result.response?.status ?? null;
    entry.contentType = result.response?.headers?.get('content-type') ?? null;
  }
  results.push(entry);
}
process.stdout.write(JSON.stringify({ results }) + '\n');
