/** Small text helpers shared by the owner's views. */

/** A time in the reader's locale, or a dash when there is none. */
export const dateTime = (iso: string | null | undefined) =>
  iso ? new Date(iso).toLocaleString(undefined, { dateStyle: 'short', timeStyle: 'short' }) : '—';

/** "a, b ,c" → ["a", "b", "c"]: model lists are typed as comma-separated text. */
export const commaList = (text: string) =>
  text
    .split(',')
    .map((item) => item.trim())
    .filter((item) => item !== '');

/** An optional whole number field: empty → undefined (no limit). */
export const optionalInt = (text: string) => (text.trim() === '' ? undefined : Math.round(Number(text)));
