/**
 * A URL as it may be printed or logged: user info and query hidden (they carry passwords, e.g.
 * `redis://:secret@host` or `?password=`). Works on text that is not a valid URL too.
 */
export function redactUrl(raw: string): string {
  return raw.replace(/\?[\s\S]*$/, '?***').replace(/\/\/[^?#]*@/, '//***@');
}
