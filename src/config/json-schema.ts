// The JSON Schema of the configuration file for editors (schema/nsvisor.schema.json), generated from the zod schema.
import * as fs from 'fs';
import * as path from 'path';
import { z } from 'zod';

import { configInputSchema } from './schema';

export const JSON_SCHEMA_FILE = path.join(__dirname, '..', '..', '..', 'schema', 'nsvisor.schema.json');

/** The schema's text as it is committed: what a file may contain, before defaults and conversions. */
export function configJsonSchemaText(): string {
  const schema = z.toJSONSchema(configInputSchema, { io: 'input', unrepresentable: 'any', target: 'draft-07' });
  return `${JSON.stringify({ ...schema, title: 'nsvisor configuration' }, null, 2)}\n`;
}

if (require.main === module) {
  fs.mkdirSync(path.dirname(JSON_SCHEMA_FILE), { recursive: true });
  fs.writeFileSync(JSON_SCHEMA_FILE, configJsonSchemaText());
  process.stdout.write(`wrote ${path.relative(process.cwd(), JSON_SCHEMA_FILE)}\n`);
}
