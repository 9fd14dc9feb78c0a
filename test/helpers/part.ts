// One part of an answer as a test compares it: the value, or 'absent' / 'offline' for the errors that say so.
import { IsOfflineError, NotFoundError } from 'asyncdbview';

/** A compared part: a name, member ids, or `'absent'` (NotFoundError) / `'offline'` (IsOfflineError). */
export type Part = string | number[];

/** `map` of what `get` resolves to, or `'absent'` / `'offline'` when it rejects with NotFoundError / IsOfflineError. */
export async function part<T>(get: () => Promise<T>, map: (v: T) => Part): Promise<Part> {
  try {
    return map(await get());
  } catch (error) {
    if (error instanceof NotFoundError) return 'absent';
    if (error instanceof IsOfflineError) return 'offline';
    throw error;
  }
}
