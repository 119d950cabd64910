// The practitioner directory's search as the server reads it (backend/resolvers/sharing.py):
// spaces collapsed, SEARCH_MIN characters at least, else it refuses the search.
export const SEARCH_MIN = 2;

// The search to send, or null when it is too short to be asked.
export function directorySearch(typed) {
  const text = typed.split(/\s+/).filter(Boolean).join(' ');
  return [...text].length >= SEARCH_MIN ? text : null;
}
