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
      <p>
        Next, on the machine of your model, download the agent (one file, Node.js 20 or newer) and run it.
        Ollama is the default model server; for another, change <code>--upstream</code>.
      </p>
      <CopyBlock
        label="Install and run the agent"
        text={agentCommand(location.origin, instanceId, password)}
        testId="agent-command"
      />
      <p class="muted">
        Add <code>--check</code> to check the registry and the model server and exit. To keep it running as a
        service, put the password in a file only you can read and pass <code>--password-file</code> (see
        docs/agent.md).
      </p>
    </div>
  );
}
