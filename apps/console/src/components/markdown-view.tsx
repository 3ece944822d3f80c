import type { ComponentChildren } from 'preact';
import { useMemo } from 'preact/hooks';
import { Block, Inline, parseMarkdown } from '../markdown';
import { CopyBlock } from './copy-block';

/** Past this size an answer is shown as plain text: reading it again on every chunk would cost more than it shows. */
const MAX_MARKDOWN_CHARS = 200_000;

function inline(nodes: Inline[]): ComponentChildren {
  return nodes.map((node) => {
    switch (node.type) {
      case 'text':
        return node.text;
      case 'code':
        return <code>{node.text}</code>;
      case 'strong':
        return <strong>{inline(node.children)}</strong>;
      case 'em':
        return <em>{inline(node.children)}</em>;
      case 'link':
        return (
          <a href={node.href} target="_blank" rel="noopener noreferrer">
            {inline(node.children)}
          </a>
        );
      case 'break':
        return <br />;
    }
  });
}

function block(node: Block): ComponentChildren {
  switch (node.type) {
    case 'paragraph':
      return <p>{inline(node.children)}</p>;
    case 'heading': {
      // Answers sit under the page's own headings: a model's "#" is a small heading, never the page's h1.
      const Tag = `h${Math.min(node.level + 2, 6)}` as 'h3';
      return <Tag>{inline(node.children)}</Tag>;
    }
    case 'code':
      return <CopyBlock label={node.lang || 'code'} text={node.text} />;
    case 'list': {
      const items = node.items.map((item) => (
        // A one-paragraph item shows without a paragraph's margins (a tight list).
        <li>{item.length === 1 && item[0].type === 'paragraph' ? inline(item[0].children) : blocks(item)}</li>
      ));
      return node.ordered ? <ol start={node.start}>{items}</ol> : <ul>{items}</ul>;
    }
    case 'quote':
      return <blockquote>{blocks(node.children)}</blockquote>;
    case 'rule':
      return <hr />;
  }
}

const blocks = (nodes: Block[]) => nodes.map(block);

/** A model's answer as Markdown, built as elements from the parsed tree: no HTML from the model reaches the page. */
export function MarkdownView({ text }: { text: string }) {
  const tree = useMemo(() => (text.length > MAX_MARKDOWN_CHARS ? null : parseMarkdown(text)), [text]);
  return <div class="markdown">{tree ? blocks(tree) : <p class="plain">{text}</p>}</div>;
}
