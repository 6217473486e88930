// What a client may read of a backend's own words (Triton's details, reasons in the repository index,
// a failed load): what it can act on, not where things are. Addresses (IPv4 or bracketed IPv6 with
// port, a bare IPv4, a host name with port), absolute server paths and the Python traceback Triton's
// Python backend appends after "At:" are replaced; the operator's log keeps the words as they were.
const ADDRESS = /\b(?:remote_addr=)?(?:(?:\d{1,3}(?:\.\d{1,3}){3}|\[[0-9a-f:.]+\]):\d+|\d{1,3}(?:\.\d{1,3}){3}|(?:localhost|[a-z0-9-]+(?:\.[a-z0-9-]+)+):\d+)\b/gi;
const ABSOLUTE_PATH = /(?<![\w.])(?:\/[\w.@+-]+){2,}\/?/g;
const TRACEBACK = /\s*\bAt:\n[\s\S]*$/;

export function clientDetails(details: string): string {
  return details.replace(TRACEBACK, '').replace(ADDRESS, '<address>').replace(ABSOLUTE_PATH, '<path>').trim();
}
