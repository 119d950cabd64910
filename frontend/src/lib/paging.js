// Relay connections: { edges { cursor node }, pageInfo { hasNextPage endCursor }, totalCount }.
export const PAGE_SIZE = 20;
export const MAX_FIRST = 100;

export function nodes(connection) {
  return (connection?.edges ?? []).map((edge) => edge.node);
}

// Variables for the page after `connection` (null when there is none).
export function nextPageVariables(connection, variables = {}) {
  const info = connection?.pageInfo;
  if (!info?.hasNextPage || !info.endCursor) return null;
  return { ...variables, after: info.endCursor };
}

// Append a freshly fetched page to what is shown, dropping any node already present.
export function appendPage(previous, page) {
  if (!previous) return page;
  if (!page) return previous;
  const seen = new Set(previous.edges.map((edge) => edge.node.id));
  return {
    ...page,
    edges: [...previous.edges, ...page.edges.filter((edge) => !seen.has(edge.node.id))],
    totalCount: page.totalCount ?? previous.totalCount,
  };
}

export function clampFirst(first) {
  const n = Number.isFinite(first) ? Math.trunc(first) : PAGE_SIZE;
  return Math.min(MAX_FIRST, Math.max(1, n));
}
