import type { WireEvent } from './types';

/** One queued event as it is kept while offline. */
export interface StoredEvent {
  event: WireEvent;
  /** Delivery attempts so far. */
  attempts: number;
}

/**
 * Where the client keeps events it has not delivered yet, so that they
 * survive a reload or a restart: localStorage in browsers, a file in Node
 * (`fileStorage` from `@audit-trail/client/node`), or anything else with
 * these two methods. One storage belongs to one client at a time.
 */
export interface QueueStorage {
  load(): StoredEvent[] | Promise<StoredEvent[]>;
  /** Replaces what is stored with these events (the whole queue, oldest first). */
  save(events: StoredEvent[]): void | Promise<void>;
}

/** Keeps nothing across restarts: the default where neither localStorage nor a file is given. */
export function memoryStorage(): QueueStorage {
  let stored: StoredEvent[] = [];
  return {
    load: () => stored,
    save: (events) => {
      stored = events;
    },
  };
}

/** The browser's localStorage under one key (synchronous, so the queue is on disk before a page unloads). */
export function localStorageStorage(key = 'audit-trail:queue', storage: Storage = globalThis.localStorage): QueueStorage {
  return {
    load: () => {
      try {
        const parsed: unknown = JSON.parse(storage.getItem(key) ?? '[]');
        return Array.isArray(parsed) ? (parsed as StoredEvent[]) : [];
      } catch {
        return [];
      }
    },
    save: (events) => {
      try {
        if (events.length === 0) storage.removeItem(key);
        else storage.setItem(key, JSON.stringify(events));
      } catch {
        // Quota exceeded or storage disabled (private mode): the events stay in memory only.
      }
    },
  };
}

/** localStorage when this runtime has a usable one (browsers), else memory. */
export function defaultStorage(): QueueStorage {
  try {
    const storage = (globalThis as { localStorage?: Storage }).localStorage;
    if (storage && typeof storage.getItem === 'function') return localStorageStorage('audit-trail:queue', storage);
  } catch {
    // Accessing localStorage throws where it is blocked (sandboxed iframes, some privacy settings).
  }
  return memoryStorage();
}
