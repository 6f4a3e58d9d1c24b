import { UsageError } from '../util/errors.js';

export function parseIntOption(name: string, v: string, min = 0, max = Number.MAX_SAFE_INTEGER): number {
  if (!/^-?\d+$/.test(v.trim())) throw new UsageError(`${name} must be an integer (got '${v}')`);
  const n = Number(v);
  if (n < min || n > max) throw new UsageError(`${name} must be between ${min} and ${max} (got ${n})`);
  return n;
}

export function parseFloatOption(name: string, v: string): number {
  const n = Number(v);
  if (v.trim() === '' || !Number.isFinite(n)) throw new UsageError(`${name} must be a number (got '${v}')`);
  return n;
}
