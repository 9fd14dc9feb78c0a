// An answer as a test compares it: the value, or a name for the errors that say the answer is missing.
import { IsOfflineError, NotFoundError } from 'asyncdbview';

/** What `get` resolves to, or the class name of the error it gives (IsOfflineError, NotFoundError). */
export async function orErrorName<T>(get: () => Promise<T>): Promise<T | 'IsOfflineError' | 'NotFoundError'> {
  try {
    return await get();
  } catch (error) {
    if (error instanceof IsOfflineError) return 'IsOfflineError';
    if (error instanceof NotFoundError) return 'NotFoundError';
    throw error;
  }
}

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
