import { Inject, Injectable, OnModuleDestroy, OnModuleInit } from '@nestjs/common';
import { createHash } from 'node:crypto';
import { LiveNodes } from '../cluster/live-nodes';
import { APP_CONFIG, AppConfig } from '../config/app-config';
import { InstanceEvents } from './instance-events';

/** An answer and its entity tag (for `If-None-Match`). */
export interface DirectoryRead<T> {
  value: T;
  etag: string;
}

interface Entry {
  version: string;
  at: number;
  read: Promise<DirectoryRead<unknown>>;
}

/** Distinct reads kept at most (page × size × statuses a stranger can vary): past it, start over. */
const MAX_ENTRIES = 1_000;

/**
 * The public directory's reads (list pages, counts) and the online figure, shared by every caller
 * of this node for up to DIRECTORY_CACHE_MS: a thousand consoles polling once a second cost the
 * database one query per distinct read per node per second, and a poll whose answer did not change
 * gets 304. An answer is recomputed as soon as anything this node knows of changes — an instance
 * registered, changed or deleted here, visibility changed anywhere (broadcast), a host of this
 * node connected or left, a node died or joined — so only changes made on other nodes can take
 * up to DIRECTORY_CACHE_MS to show. Concurrent misses of one read share one query.
 */
@Injectable()
export class DirectoryReads implements OnModuleInit, OnModuleDestroy {
  private readonly entries = new Map<string, Entry>();
  private localVersion = 0;
  private readonly unsubscribe: Array<() => void> = [];

  constructor(
    private readonly live: LiveNodes,
    private readonly events: InstanceEvents,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  onModuleInit(): void {
    const bump = () => this.localVersion++;
    this.unsubscribe.push(
      this.events.on('listed', bump),
      this.events.on('deleted', bump),
      this.events.on('accessChanged', bump),
      this.events.on('holdersChanged', bump),
    );
  }

  onModuleDestroy(): void {
    for (const off of this.unsubscribe) off();
  }

  async get<T>(key: string, compute: () => Promise<T>): Promise<DirectoryRead<T>> {
    const version = `${this.live.version}:${this.localVersion}`;
    const now = performance.now();
    const cached = this.entries.get(key);
    if (cached && cached.version === version && now - cached.at < this.config.directoryCacheMs)
      return cached.read as Promise<DirectoryRead<T>>;
    const read = compute().then((value) => ({ value, etag: entityTag(value) }));
    if (this.config.directoryCacheMs === 0) return read;
    if (this.entries.size >= MAX_ENTRIES) this.entries.clear();
    this.entries.set(key, { version, at: now, read });
    // A failed read (database down) is not remembered.
    read.catch(() => {
      if (this.entries.get(key)?.read === read) this.entries.delete(key);
    });
    return read;
  }
}

/** A weak entity tag from the answer's JSON. */
function entityTag(value: unknown): string {
  return `W/"${createHash('sha1').update(JSON.stringify(value)).digest('base64url').slice(0, 22)}"`;
}
