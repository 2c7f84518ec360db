// The log pipeline's public surface for the supervisor and the `logs` command.
export { ServiceLog, ServiceLogOptions, LogStats, LineListener } from './service-log';
export { LogSource, formatLine } from './line-format';
export { CUT_MARK, MAX_LINE_BYTES } from './line-splitter';
export { ROTATE_BYTES, KEEP_FILES, logFiles } from './file-sink';
