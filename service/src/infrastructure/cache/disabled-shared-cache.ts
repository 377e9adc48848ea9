import type { SharedCache } from '../../application/ports';

/** The disabled L2 for REDIS_URL unset: every read misses, every lease is local. */
export function createDisabledSharedCache(): SharedCache {
  return {
    getSnapshot: async () => undefined,
    putSnapshot: async () => undefined,
    getSourceResult: async () => undefined,
    putSourceResult: async () => undefined,
    acquireLease: async () => 'unavailable',
    status: () => 'disabled',
    close: async () => undefined,
  };
}
