import { useState } from 'preact/hooks';

/** A small Copy button; `label` names what it copies for screen readers ("Copy chat URL"). */
export function CopyButton({ text, label }: { text: string; label: string }) {
  const [copied, setCopied] = useState(false);
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(text);
      setCopied(true);
      setTimeout(() => setCopied(false), 1500);
    } catch {
      // No clipboard permission (plain http on another host): the text is selectable anyway.
    }
  };
  return (
    <button type="button" class="small" aria-label={`Copy ${label}`} onClick={() => void copy()}>
      {copied ? 'Copied' : 'Copy'}
    </button>
  );
}

/** A labelled block of text to copy (a command, a snippet, a secret), with a Copy button. */
export function CopyBlock({ label, text, testId }: { label: string; text: string; testId?: string }) {
  return (
    <figure class="copy-block">
      <figcaption>
        <span>{label}</span>
        <CopyButton text={text} label={label} />
      </figcaption>
      <pre tabIndex={0} data-testid={testId}>
        <code>{text}</code>
      </pre>
    </figure>
  );
}
