import { CopyBlock } from './copy-block';
import { agentCommand } from '../snippets';

/** A freshly issued password, shown this once, with the command that uses it. */
export function NewPassword({ instanceId, password }: { instanceId: string; password: string }) {
  return (
    <div class="secret" role="status">
      <p>
        <strong>Copy the password now: it is shown only this once.</strong> Lost, it can only be replaced
        (Manage → Rotate password).
      </p>
      <CopyBlock label="Password" text={password} testId="new-password" />
      <p>Next, next to your model (Ollama by default; change --upstream for another server), run:</p>
      <CopyBlock
        label="Agent command"
        text={agentCommand(location.origin, instanceId, password)}
        testId="agent-command"
      />
    </div>
  );
}
