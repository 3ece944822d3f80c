/**
 * A small Markdown reader for model answers: paragraphs, headings, emphasis, inline code, fenced
 * code, lists, quotes, rules and http(s) links. It produces a tree that the page renders as
 * elements, never as HTML: whatever markup a model writes (`<script>`, `<img onerror>`) stays text.
 */

export type Inline =
  | { type: 'text'; text: string }
  | { type: 'code'; text: string }
  | { type: 'strong' | 'em'; children: Inline[] }
  | { type: 'link'; href: string; children: Inline[] }
  | { type: 'break' };

export type Block =
  | { type: 'paragraph'; children: Inline[] }
  | { type: 'heading'; level: number; children: Inline[] }
  | { type: 'code'; lang: string; text: string }
  | { type: 'list'; ordered: boolean; start: number; items: Block[][] }
  | { type: 'quote'; children: Block[] }
  | { type: 'rule' };

const FENCE = /^ {0,3}(`{3,}|~{3,})\s*([^\s`]*)/;
const HEADING = /^ {0,3}(#{1,6})(?:\s+(.*?))?(?:\s+#+)?\s*$/;
const RULE = /^ {0,3}([-*_])(?:\s*\1){2,}\s*$/;
const QUOTE = /^ {0,3}> ?/;
const ITEM = /^( {0,3})([-*+]|\d{1,9}[.)])(\s+|$)(.*)$/;

const isBlank = (line: string) => line.trim() === '';
/** A line that ends a paragraph without a blank line before it. */
const startsBlock = (line: string) =>
  FENCE.test(line) || HEADING.test(line) || RULE.test(line) || QUOTE.test(line) || ITEM.test(line);

export function parseMarkdown(text: string): Block[] {
  return blocks(text.replace(/\r\n?/g, '\n').split('\n'));
}

function blocks(lines: string[]): Block[] {
  const out: Block[] = [];
  let i = 0;
  while (i < lines.length) {
    const line = lines[i];
    if (isBlank(line)) {
      i++;
      continue;
    }
    const fence = FENCE.exec(line);
    if (fence) {
      const marker = fence[1];
      const body: string[] = [];
      i++;
      // An unclosed fence (an answer still streaming) runs to the end.
      while (i < lines.length && !closesFence(lines[i], marker)) body.push(lines[i++]);
      i++;
      out.push({ type: 'code', lang: fence[2], text: body.join('\n') });
      continue;
    }
    const heading = HEADING.exec(line);
    if (heading) {
      out.push({ type: 'heading', level: heading[1].length, children: inlines(heading[2] ?? '') });
      i++;
      continue;
    }
    if (RULE.test(line)) {
      out.push({ type: 'rule' });
      i++;
      continue;
    }
    if (QUOTE.test(line)) {
      const quoted: string[] = [];
      while (i < lines.length && QUOTE.test(lines[i])) quoted.push(lines[i++].replace(QUOTE, ''));
      out.push({ type: 'quote', children: blocks(quoted) });
      continue;
    }
    if (ITEM.test(line)) {
      i = list(lines, i, out);
      continue;
    }
    const para: string[] = [];
    while (i < lines.length && !isBlank(lines[i]) && (para.length === 0 || !startsBlock(lines[i])))
      para.push(lines[i++].trim());
    out.push({ type: 'paragraph', children: inlines(para.join('\n')) });
  }
  return out;
}

function closesFence(line: string, marker: string): boolean {
  const trimmed = line.trim();
  return trimmed.length >= marker.length && trimmed === marker[0].repeat(trimmed.length);
}

/** Reads one list from `lines[start]`; its items may hold paragraphs, code and nested lists. */
function list(lines: string[], start: number, out: Block[]): number {
  const first = ITEM.exec(lines[start])!;
  const ordered = /\d/.test(first[2]);
  const items: string[][] = [];
  let indent = 0;
  let i = start;
  while (i < lines.length) {
    const line = lines[i];
    const item = ITEM.exec(line);
    if (item && /\d/.test(item[2]) === ordered) {
      indent = item[1].length + item[2].length + Math.min(item[3].length || 1, 4);
      items.push([item[4]]);
      i++;
      continue;
    }
    const current = items[items.length - 1];
    const leading = line.length - line.trimStart().length;
    if (isBlank(line)) {
      // A blank line continues the list only if the next line belongs to it.
      const next = lines[i + 1];
      if (next === undefined || (!ITEM.test(next) && next.length - next.trimStart().length < indent)) break;
      current.push('');
    } else if (leading >= indent) current.push(line.slice(indent));
    else if (current[current.length - 1] !== '' && !startsBlock(line)) current.push(line.trim());
    else break;
    i++;
  }
  const number = Number.parseInt(first[2], 10);
  out.push({
    type: 'list',
    ordered,
    start: ordered && Number.isSafeInteger(number) ? number : 1,
    items: items.map(blocks),
  });
  return i;
}

const SAFE_URL = /^https?:\/\/[^\s<>"]+$/i;
const BARE_URL = /^https?:\/\/[^\s<>"]*[^\s<>".,;:!?)'\]]/i;
const ESCAPABLE = /[\\`*_[\]()#+\-.!>~|{}]/;

/** Longest link label looked for: a stray `[` must not make every later one scan the whole text. */
const MAX_LABEL = 300;

/** Inline spans of one block's text; `\n` inside a paragraph is a line break. */
export function inlines(text: string): Inline[] {
  const out: Inline[] = [];
  // Delimiter → the first position after which it never closes: each opener then costs one scan at most.
  const unclosed = new Map<string, number>();
  let plain = '';
  const flush = () => {
    if (plain) out.push({ type: 'text', text: plain });
    plain = '';
  };
  let i = 0;
  while (i < text.length) {
    const ch = text[i];
    if (ch === '\\' && ESCAPABLE.test(text[i + 1] ?? '')) {
      plain += text[i + 1];
      i += 2;
      continue;
    }
    if (ch === '\n') {
      flush();
      out.push({ type: 'break' });
      i++;
      continue;
    }
    if (ch === '`') {
      const run = /^`+/.exec(text.slice(i))![0];
      const end = closing(
        text,
        run,
        i + run.length,
        unclosed,
        (at) => text[at - 1] !== '`' && text[at + run.length] !== '`',
      );
      if (end !== -1) {
        flush();
        out.push({ type: 'code', text: text.slice(i + run.length, end).replace(/\n/g, ' ') });
        i = end + run.length;
        continue;
      }
      plain += run;
      i += run.length;
      continue;
    }
    if (ch === '*' || ch === '_') {
      const span = emphasis(text, i, unclosed);
      if (span) {
        flush();
        out.push(span.node);
        i = span.end;
        continue;
      }
    }
    if (ch === '[') {
      const link = bracketLink(text, i, unclosed);
      if (link) {
        flush();
        out.push(...link.nodes);
        i = link.end;
        continue;
      }
    }
    if ((ch === 'h' || ch === 'H') && !/\w/.test(text[i - 1] ?? '')) {
      const url = BARE_URL.exec(text.slice(i));
      if (url) {
        flush();
        out.push({ type: 'link', href: url[0], children: [{ type: 'text', text: url[0] }] });
        i += url[0].length;
        continue;
      }
    }
    plain += ch;
    i++;
  }
  flush();
  return out;
}

/** The first `delimiter` at or after `from` that `accepts`, or -1 (remembered in `unclosed`). */
function closing(
  text: string,
  delimiter: string,
  from: number,
  unclosed: Map<string, number>,
  accepts: (at: number) => boolean,
): number {
  if ((unclosed.get(delimiter) ?? Infinity) <= from) return -1;
  for (let at = text.indexOf(delimiter, from); at !== -1; at = text.indexOf(delimiter, at + 1))
    if (accepts(at)) return at;
  unclosed.set(delimiter, from);
  return -1;
}

/** `**strong**`, `__strong__`, `*em*` or `_em_` starting at `start`, if it closes. */
function emphasis(
  text: string,
  start: number,
  unclosed: Map<string, number>,
): { node: Inline; end: number } | null {
  const ch = text[start];
  const double = text[start + 1] === ch;
  const width = double ? 2 : 1;
  const delimiter = ch.repeat(width);
  const open = start + width;
  if (open >= text.length || /\s/.test(text[open])) return null;
  // snake_case_words are not emphasis.
  if (ch === '_' && /\w/.test(text[start - 1] ?? '')) return null;
  // Whether a delimiter closes depends only on what surrounds it, not on the opener.
  const close = closing(
    text,
    delimiter,
    open + 1,
    unclosed,
    (at) =>
      !/\s/.test(text[at - 1]) &&
      (double || text[at + 1] !== ch) &&
      (ch !== '_' || !/\w/.test(text[at + width] ?? '')),
  );
  if (close === -1) return null;
  return {
    node: { type: double ? 'strong' : 'em', children: inlines(text.slice(open, close)) },
    end: close + width,
  };
}

/** `[label](url)`: a link for http(s) URLs; any other scheme keeps only its label, as text. */
function bracketLink(
  text: string,
  start: number,
  unclosed: Map<string, number>,
): { nodes: Inline[]; end: number } | null {
  if (closing(text, ']', start, unclosed, () => true) === -1) return null;
  let depth = 0;
  let close = -1;
  for (let j = start; j < Math.min(text.length, start + MAX_LABEL); j++) {
    if (text[j] === '\\') j++;
    else if (text[j] === '[') depth++;
    else if (text[j] === ']' && --depth === 0) {
      close = j;
      break;
    }
  }
  if (close === -1 || text[close + 1] !== '(') return null;
  const target = /^\(\s*([^\s()]*(?:\([^\s()]*\)[^\s()]*)*)(?:\s+"[^"]*")?\s*\)/.exec(text.slice(close + 1));
  if (!target) return null;
  const children = inlines(text.slice(start + 1, close));
  const end = close + 1 + target[0].length;
  return SAFE_URL.test(target[1])
    ? { nodes: [{ type: 'link', href: target[1], children }], end }
    : { nodes: children, end };
}
