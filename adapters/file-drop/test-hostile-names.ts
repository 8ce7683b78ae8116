// Shared by the local and SFTP tests.
/** Names a portal or a store could hand the adapter; none may leave the drop folder or name a device. */
export const HOSTILE_NAMES = [
  '../../../../tmp/escaped.txt',
  '..\\..\\windows\\system32\\evil.dll',
  '/etc/passwd',
  'CON.pdf',
  'nul',
  'tab\tnew\nline\u0000.pdf',
  'rechnung\u202Efdp.exe',
  '.bashrc',
  'trailing. . .',
];
