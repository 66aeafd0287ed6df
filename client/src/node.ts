/**
 * Node-only parts of the client (`@audit-trail/client/node`): the offline
 * queue in a file. Kept out of the main entry so browser bundles never see
 * `node:fs`.
 */
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { QueueStorage, StoredEvent } from './storage';

/**
 * The queue as a JSON file, replaced atomically (write to a temporary file,
 * then rename), so a crash mid-write leaves the previous queue intact.
 */
export function fileStorage(path: string): QueueStorage {
  let writing: Promise<void> = Promise.resolve();
  return {
    async load() {
      try {
        const parsed: unknown = JSON.parse(await readFile(path, 'utf8'));
        return Array.isArray(parsed) ? (parsed as StoredEvent[]) : [];
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
        // A corrupt file is set aside rather than silently overwritten.
        await rename(path, `${path}.corrupt-${Date.now()}`).catch(() => undefined);
        return [];
      }
    },
    save(events) {
      const text = JSON.stringify(events);
      // Writes are serialised: the last save wins, never an older one that finished later.
      writing = writing.then(async () => {
        await mkdir(dirname(path), { recursive: true });
        const temporary = `${path}.${process.pid}.tmp`;
        await writeFile(temporary, text, { mode: 0o600 });
        await rename(temporary, path);
      });
      return writing;
    },
  };
}

export * from './index';
