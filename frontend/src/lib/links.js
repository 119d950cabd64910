// A link built from an answer of the API, checked before it goes into an href: a document's
// download is a path of this service, /files/<id> (backend/schema/types.py); anything else
// (javascript:, data:, another origin, another path) is not offered.
const FILE_PATH = /^\/files\/[A-Za-z0-9-]+$/;

export function fileLink(url) {
  return typeof url === 'string' && FILE_PATH.test(url) ? url : null;
}
