import { userInfo } from 'node:os';

/** Who runs an operator command, for the sync log when `--by` is not given. */
export function osUser(): string {
  try {
    return userInfo().username;
  } catch {
    return process.env.USER ?? 'unknown';
  }
}
