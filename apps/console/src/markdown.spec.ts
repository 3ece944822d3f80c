import { Block, Inline, inlines, parseMarkdown } from './markdown';

const text = (value: string): Inline => ({ type: 'text', text: value });
const para = (...children: Inline[]): Block => ({ type: 'paragraph', children });

describe('console markdown reader', () => {
  it('keeps HTML a model writes as text: there is no node that could carry markup', () => {
    const blocks = parseMarkdown('<script>alert(1)</script>\n\n<img src=x onerror="alert(2)">');
    expect(blocks).toEqual([
      para(text('<script>alert(1)</script>')),
      para(text('<img src=x onerror="alert(2)">')),
    ]);
  });

  it('links only http(s) URLs; any other scheme keeps its label as text', () => {
    expect(inlines('[docs](https://example.com/a_(b)) and [x](javascript:alert(1))')).toEqual([
      { type: 'link', href: 'https://example.com/a_(b)', children: [text('docs')] },
      text(' and '),
      text('x'),
    ]);
    expect(inlines('[y](data:text/html,<b>) see https://example.com/page.')).toEqual([
      text('y'),
      text(' see '),
      { type: 'link', href: 'https://example.com/page', children: [text('https://example.com/page')] },
      text('.'),
    ]);
  });

  it('reads emphasis, strong, inline code and escapes, but not snake_case or a lone star', () => {
    expect(inlines('**bold** and *it* and `a*b*c` and snake_case_name, 2 * 3 * 4, \\*not\\*')).toEqual([
      { type: 'strong', children: [text('bold')] },
      text(' and '),
      { type: 'em', children: [text('it')] },
      text(' and '),
      { type: 'code', text: 'a*b*c' },
      text(' and snake_case_name, 2 * 3 * 4, *not*'),
    ]);
    expect(inlines('__b _i_ b__')).toEqual([
      { type: 'strong', children: [text('b '), { type: 'em', children: [text('i')] }, text(' b')] },
    ]);
  });

  it('reads headings, fenced code (closed or still streaming), quotes, rules and line breaks', () => {
    const blocks = parseMarkdown(
      '# Title #\n## C#\nline one\nline two\n\n> quoted\n\n---\n```ts\nconst a = "<b>";\n```\n~~~\nopen',
    );
    expect(blocks).toEqual<Block[]>([
      { type: 'heading', level: 1, children: [text('Title')] },
      { type: 'heading', level: 2, children: [text('C#')] },
      para(text('line one'), { type: 'break' }, text('line two')),
      { type: 'quote', children: [para(text('quoted'))] },
      { type: 'rule' },
      { type: 'code', lang: 'ts', text: 'const a = "<b>";' },
      { type: 'code', lang: '', text: 'open' },
    ]);
  });

  it('reads bullet and numbered lists, with nested lists, code and lazy lines inside items', () => {
    const blocks = parseMarkdown(
      '3. first\n   more of it\n4. second\n   - inner\n\n   ```\n   code\n   ```\n\nafter',
    );
    expect(blocks).toEqual<Block[]>([
      {
        type: 'list',
        ordered: true,
        start: 3,
        items: [
          [para(text('first'), { type: 'break' }, text('more of it'))],
          [
            para(text('second')),
            { type: 'list', ordered: false, start: 1, items: [[para(text('inner'))]] },
            { type: 'code', lang: '', text: 'code' },
          ],
        ],
      },
      para(text('after')),
    ]);
    expect(parseMarkdown('- a\n- b\n1. c')).toEqual([
      { type: 'list', ordered: false, start: 1, items: [[para(text('a'))], [para(text('b'))]] },
      { type: 'list', ordered: true, start: 1, items: [[para(text('c'))]] },
    ]);
  });

  it('reads a long run of openers that never close without rescanning the text for each (a hang otherwise)', () => {
    // 60,000 openers in 180,000 characters: quadratic scanning would take minutes, past the test's timeout.
    const hostile = '*a _a [a '.repeat(20_000);
    expect(inlines(hostile)).toEqual([text(hostile)]);
  });
});
