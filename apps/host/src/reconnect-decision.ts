import { CloseCodes } from '@app/protocol';
import { smallJitter, type Backoff } from './backoff';
import { redactUrl } from '@app/common';
import type { ConnectionEnd } from './connection';
import { withAdvice } from './startup-checks';

/** Why the agent stopped for good. */
export type AgentExit =
  | { kind: 'stopped' }
  | {
      kind: 'fatal';
      reason: 'unauthorized' | 'not_found' | 'superseded' | 'unregistered' | 'internal';
      message: string;
    };

export type FatalExit = Extract<AgentExit, { kind: 'fatal' }>;

/** The registry sent `goaway` on the current socket: this node is draining. */
export type GoawayEvent = { kind: 'goaway'; reason: string; openForMs: number };

/** What ended the current connection: exit for good, or wait `delayMs` and dial the next URL. */
export type ReconnectDecision =
  { kind: 'exit'; exit: FatalExit } | { kind: 'retry'; delayMs: number; what: string };

export interface ReconnectPolicy {
  /** Advanced on every backed-off retry, reset once a connection proved stable. */
  backoff: Backoff;
  /** A connection that lived this long resets the backoff. */
  stableMs: number;
  /** The longest wait, also for a registry's Retry-After. */
  backoffCapMs: number;
  random: () => number;
}

/**
 * Decides, from how the current connection to `registryUrl` ended, whether the agent stops
 * (bad credentials, instance deleted, taken over), moves on at once (the node is going away) or
 * backs off. Advances or resets `policy.backoff`; otherwise pure.
 */
export function decideReconnect(
  registryUrl: string,
  event: ConnectionEnd | GoawayEvent,
  policy: ReconnectPolicy,
): ReconnectDecision {
  const exit = (reason: FatalExit['reason'], message: string): ReconnectDecision => ({
    kind: 'exit',
    exit: { kind: 'fatal', reason, message },
  });
  const backOff = (what: string): ReconnectDecision => ({
    kind: 'retry',
    delayMs: policy.backoff.next(),
    what,
  });
  // Moving to another node at once: only a small jitter, so a drained node's hosts spread out.
  const soon = (what: string): ReconnectDecision => ({
    kind: 'retry',
    delayMs: smallJitter(250, policy.random),
    what,
  });

  switch (event.kind) {
    case 'goaway':
      if (event.openForMs >= policy.stableMs) policy.backoff.reset();
      return soon(`registry ${registryUrl} is going away${event.reason ? ` (${event.reason})` : ''}`);
    case 'rejected':
      if (event.status === 401)
        return exit('unauthorized', withAdvice('credentials_refused', 'wrong instance id or password'));
      if (event.status === 404)
        return exit(
          'not_found',
          withAdvice(
            'credentials_refused',
            'instance not found (deleted, or registered on another registry?)',
          ),
        );
      return {
        kind: 'retry',
        // Respect Retry-After (429/503) but never wait longer than the backoff cap.
        delayMs: Math.max(policy.backoff.next(), Math.min(event.retryAfterMs ?? 0, policy.backoffCapMs)),
        what:
          `registry ${registryUrl} refused the connection (HTTP ${event.status})` +
          (event.location ? ` with a redirect to ${redactUrl(event.location)}: is --registry right?` : ''),
      };
    case 'failed':
      return backOff(withAdvice('registry_unreachable', `cannot connect to ${registryUrl}: ${event.error}`));
    case 'closed': {
      if (event.code === CloseCodes.Superseded) {
        return exit(
          'superseded',
          'another agent connected with this instance id and replica name and took over; exiting ' +
            '(agents that should serve side by side need different --replica names)',
        );
      }
      if (event.code === CloseCodes.CredentialsRotated) {
        return exit(
          'unauthorized',
          'the instance password was changed (re-registered); restart with the new password; exiting',
        );
      }
      if (event.code === CloseCodes.Unregistered) {
        return exit('unregistered', 'the instance was unregistered (deleted) on the registry; exiting');
      }
      // Reset only after the connection proved stable, not on open: a node that accepts and
      // then drops us at once (crash loop, overload) would otherwise be redialled every few
      // hundred ms forever. A link that held for a while starts over with short delays.
      if (event.openForMs >= policy.stableMs) policy.backoff.reset();
      const detail = `code ${event.code}${event.reason ? `, ${event.reason}` : ''}${event.error ? `, ${event.error}` : ''}`;
      if (event.code === CloseCodes.TooManyReplicas) {
        // Not fatal: a sibling replica may leave; the backoff keeps the retries rare (up to the cap).
        return backOff(
          `registry ${registryUrl} turned this replica away: the instance already has as many ` +
            `replicas as the registry allows (${detail}); retrying in case one leaves`,
        );
      }
      if (event.code === CloseCodes.GoingAway || event.code === CloseCodes.ServiceRestart) {
        return soon(`disconnected (${detail})`);
      }
      return backOff(`disconnected (${detail})`);
    }
  }
}
