// The version of this nsvisor program, from the package.json beside its dist/ tree (what `--version` prints).
// eslint-disable-next-line @typescript-eslint/no-var-requires
export const VERSION: string = require('../../package.json').version;
